package nbd

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// server plays the server's side of one handshake on c, as the table
// below scripts it, and returns what the client sent after its flags.
type server struct {
	greeting []uint64 // the two magics
	flags    uint16
	// reply answers one option; nil closes the connection.
	reply func(opt uint32, data []byte) []byte
}

func (s server) run(t *testing.T, c net.Conn) {
	defer c.Close()
	var b []byte
	for _, m := range s.greeting {
		b = binary.BigEndian.AppendUint64(b, m)
	}
	b = binary.BigEndian.AppendUint16(b, s.flags)
	if _, err := c.Write(b); err != nil {
		return
	}
	var client uint32
	if binary.Read(c, binary.BigEndian, &client) != nil {
		return
	}
	for {
		var h struct {
			Magic    uint64
			Opt, Len uint32
		}
		if binary.Read(c, binary.BigEndian, &h) != nil {
			return
		}
		if h.Magic != magicOpt {
			t.Errorf("option magic %#x", h.Magic)
			return
		}
		data := make([]byte, h.Len)
		io.ReadFull(c, data)
		r := s.reply(h.Opt, data)
		if r == nil {
			return
		}
		c.Write(r)
	}
}

func rep(opt, typ uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint64(nil, magicReply)
	b = binary.BigEndian.AppendUint32(b, opt)
	b = binary.BigEndian.AppendUint32(b, typ)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

func info(size uint64, flags uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, infoExport)
	b = binary.BigEndian.AppendUint64(b, size)
	return binary.BigEndian.AppendUint16(b, flags)
}

func TestHandshake(t *testing.T) {
	newstyle := []uint64{magicNBD, magicOpt}
	goReply := func(opt uint32, data []byte) []byte {
		if opt != optGo || !bytes.Equal(data, make([]byte, 6)) {
			return nil
		}
		return append(append(rep(optGo, 6 /* NBD_REP_SERVER, ignored */, nil), rep(optGo, repInfo, info(1<<30, FlagCanMultiCon))...), rep(optGo, repAck, nil)...)
	}
	oldServer := func(zeroes bool) func(uint32, []byte) []byte {
		return func(opt uint32, data []byte) []byte {
			switch opt {
			case optGo:
				return rep(optGo, repErrUnsup, nil)
			case optExportName:
				b := binary.BigEndian.AppendUint64(nil, 512<<20)
				b = binary.BigEndian.AppendUint16(b, FlagReadOnly)
				if zeroes {
					b = append(b, make([]byte, 124)...)
				}
				return b
			}
			return nil
		}
	}
	tests := []struct {
		name    string
		srv     server
		want    Export
		wantErr string
	}{
		{"go", server{newstyle, flagFixed | flagNoZeroes, goReply}, Export{1 << 30, FlagCanMultiCon}, ""},
		{"export name, no zeroes", server{newstyle, flagFixed | flagNoZeroes, oldServer(false)}, Export{512 << 20, FlagReadOnly}, ""},
		{"export name, zeroes", server{newstyle, flagFixed, oldServer(true)}, Export{512 << 20, FlagReadOnly}, ""},
		{"no default export", server{newstyle, flagFixed, func(uint32, []byte) []byte { return rep(optGo, repErrUnknown, nil) }}, Export{}, "no default export"},
		{"refused with a message", server{newstyle, flagFixed, func(uint32, []byte) []byte { return rep(optGo, repErr|5, []byte("go away")) }}, Export{}, "error 5): go away"},
		{"ack without a size", server{newstyle, flagFixed, func(uint32, []byte) []byte { return rep(optGo, repAck, nil) }}, Export{}, "no size"},
		{"old style", server{[]uint64{magicNBD, magicOldstyle}, 0, nil}, Export{}, "old-style"},
		{"not fixed", server{newstyle, 0, nil}, Export{}, "fixed newstyle"},
		{"not nbd", server{[]uint64{0x485454502f312e31, 0}, 0, nil}, Export{}, "not an NBD server"},
		{"closed mid-way", server{newstyle, flagFixed, func(uint32, []byte) []byte { return nil }}, Export{}, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, srv := net.Pipe()
			defer client.Close()
			client.SetDeadline(time.Now().Add(10 * time.Second))
			go tt.srv.run(t, srv)
			got, err := Handshake(client)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Handshake = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
