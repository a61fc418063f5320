// Package nbd connects the network block devices of b2c.nbd: it dials the
// server, does the NBD handshake (fixed newstyle, the default export) on
// each connection, and hands the sockets to the kernel's driver, which
// then serves /dev/nbdN. The handshake is here, in plain Go, rather than
// in Debian's nbd-client: that one brings GnuTLS and libnl into the image
// for a few hundred bytes of protocol.
//
// The protocol is the one of the NBD project's doc/proto.md.
package nbd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Protocol constants (doc/proto.md).
const (
	magicNBD        = 0x4e42444d41474943 // "NBDMAGIC"
	magicOpt        = 0x49484156454f5054 // "IHAVEOPT"
	magicOldstyle   = 0x00420281861253
	magicReply      = 0x3e889045565a9
	flagFixed       = 1 << 0 // handshake: fixed newstyle
	flagNoZeroes    = 1 << 1 // handshake: no 124 zero bytes after EXPORT_NAME
	optExportName   = 1
	optGo           = 7
	repAck          = 1
	repInfo         = 3
	repErr          = 1 << 31
	repErrUnsup     = repErr | 1
	repErrUnknown   = repErr | 6
	infoExport      = 0
	FlagReadOnly    = 1 << 1 // transmission: the export is read-only
	FlagCanMultiCon = 1 << 8 // transmission: connections share one cache
)

// Export is what the server told of the export during the handshake.
type Export struct {
	Size  uint64
	Flags uint16 // transmission flags, handed to the kernel as they are
}

// Handshake negotiates the default export (the empty name) on rw, a fresh
// connection, and leaves it ready for the transmission phase. It asks
// with NBD_OPT_GO, and falls back to NBD_OPT_EXPORT_NAME on a server too
// old to know it.
func Handshake(rw io.ReadWriter) (Export, error) {
	var hello struct {
		Magic, Opt uint64
		Flags      uint16
	}
	if err := binary.Read(rw, binary.BigEndian, &hello.Magic); err != nil {
		return Export{}, fmt.Errorf("read the server's greeting: %w", err)
	}
	if hello.Magic != magicNBD {
		return Export{}, fmt.Errorf("not an NBD server (greeting %#x)", hello.Magic)
	}
	if err := binary.Read(rw, binary.BigEndian, &hello.Opt); err != nil {
		return Export{}, fmt.Errorf("read the server's greeting: %w", err)
	}
	if hello.Opt == magicOldstyle {
		return Export{}, errors.New("the server speaks the old-style handshake, which b2c does not")
	}
	if hello.Opt != magicOpt {
		return Export{}, fmt.Errorf("not an NBD server (greeting %#x)", hello.Opt)
	}
	if err := binary.Read(rw, binary.BigEndian, &hello.Flags); err != nil {
		return Export{}, fmt.Errorf("read the server's flags: %w", err)
	}
	if hello.Flags&flagFixed == 0 {
		return Export{}, errors.New("the server does not speak the fixed newstyle handshake")
	}
	client := uint32(flagFixed)
	noZeroes := hello.Flags&flagNoZeroes != 0
	if noZeroes {
		client |= flagNoZeroes
	}
	if err := binary.Write(rw, binary.BigEndian, client); err != nil {
		return Export{}, fmt.Errorf("send the client's flags: %w", err)
	}
	exp, err := optionGo(rw)
	if errors.Is(err, errUnsupported) {
		return exportName(rw, noZeroes)
	}
	return exp, err
}

var errUnsupported = errors.New("NBD_OPT_GO is not supported")

// option sends one option request.
func option(w io.Writer, opt uint32, data []byte) error {
	b := binary.BigEndian.AppendUint64(nil, magicOpt)
	b = binary.BigEndian.AppendUint32(b, opt)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	if _, err := w.Write(append(b, data...)); err != nil {
		return fmt.Errorf("send option %d: %w", opt, err)
	}
	return nil
}

// optionGo asks for the default export with NBD_OPT_GO and reads the
// replies up to the server's ACK.
func optionGo(rw io.ReadWriter) (Export, error) {
	// The name's length (0: the default export), then no information
	// request: the server sends NBD_INFO_EXPORT in any case.
	if err := option(rw, optGo, make([]byte, 6)); err != nil {
		return Export{}, err
	}
	var exp Export
	var gotExport bool
	for {
		var rep struct {
			Magic     uint64
			Opt, Type uint32
			Length    uint32
		}
		if err := binary.Read(rw, binary.BigEndian, &rep); err != nil {
			return Export{}, fmt.Errorf("read the reply to NBD_OPT_GO: %w", err)
		}
		if rep.Magic != magicReply {
			return Export{}, fmt.Errorf("bad reply magic %#x", rep.Magic)
		}
		if rep.Length > 64<<10 {
			return Export{}, fmt.Errorf("reply of %d bytes: too long", rep.Length)
		}
		data := make([]byte, rep.Length)
		if _, err := io.ReadFull(rw, data); err != nil {
			return Export{}, fmt.Errorf("read the reply to NBD_OPT_GO: %w", err)
		}
		switch {
		case rep.Type == repAck:
			if !gotExport {
				return Export{}, errors.New("the server gave no size for the export")
			}
			return exp, nil
		case rep.Type == repInfo:
			if len(data) >= 12 && binary.BigEndian.Uint16(data) == infoExport {
				exp.Size = binary.BigEndian.Uint64(data[2:])
				exp.Flags = binary.BigEndian.Uint16(data[10:])
				gotExport = true
			}
		case rep.Type == repErrUnsup:
			return Export{}, errUnsupported
		case rep.Type == repErrUnknown:
			return Export{}, errors.New("the server has no default export (b2c asks for the export with the empty name)")
		case rep.Type&repErr != 0:
			msg := ""
			if len(data) > 0 {
				msg = ": " + string(data)
			}
			return Export{}, fmt.Errorf("the server refused the export (error %d)%s", rep.Type&^repErr, msg)
		}
		// Other replies carry nothing b2c needs.
	}
}

// exportName asks for the default export with NBD_OPT_EXPORT_NAME, whose
// reply is the export's size and flags, without a reply header.
func exportName(rw io.ReadWriter, noZeroes bool) (Export, error) {
	if err := option(rw, optExportName, nil); err != nil {
		return Export{}, err
	}
	var exp Export
	if err := binary.Read(rw, binary.BigEndian, &exp); err != nil {
		return Export{}, fmt.Errorf("read the export's size: %w", err)
	}
	if !noZeroes {
		if _, err := io.CopyN(io.Discard, rw, 124); err != nil {
			return Export{}, fmt.Errorf("read the export's size: %w", err)
		}
	}
	return exp, nil
}
