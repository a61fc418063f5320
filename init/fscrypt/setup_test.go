package fscrypt

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fakeKernel stands for the ioctls: a key's identifier is its first byte,
// and a directory is encrypted while the directory it set a policy on
// still exists. It keeps that directory open, so that a directory wiped
// and made again cannot reuse its inode and pass for it.
type fakeKernel struct {
	t         *testing.T
	enc       map[string]*os.File
	ids       map[string]Identifier
	addErr    error
	policyErr error
	set       int // SetPolicy calls
}

func (k *fakeKernel) kernel() kernel {
	return kernel{
		addKey: func(mnt string, key []byte) (Identifier, error) {
			var id Identifier
			id[0] = key[0]
			return id, k.addErr
		},
		policy: func(dir string) (Identifier, bool, error) {
			if k.policyErr != nil {
				return Identifier{}, false, k.policyErr
			}
			f, ok := k.enc[dir]
			if !ok {
				return Identifier{}, false, nil
			}
			was, err1 := f.Stat()
			is, err2 := os.Stat(dir)
			if err1 != nil || err2 != nil || !os.SameFile(was, is) {
				return Identifier{}, false, nil
			}
			return k.ids[dir], true, nil
		},
		setPolicy: func(dir string, id Identifier) error {
			k.set++
			k.encrypt(dir, id)
			return nil
		},
	}
}

func (k *fakeKernel) encrypt(dir string, id Identifier) {
	f, err := os.Open(dir)
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() { f.Close() })
	k.enc[dir], k.ids[dir] = f, id
}

// TestSetupDecisions: what Setup does with a directory, by its state and
// the key it is given, without root.
func TestSetupDecisions(t *testing.T) {
	none := byte(0)
	tests := []struct {
		name      string
		exists    bool
		encWith   byte // the key's first byte the directory is encrypted with; 0: clear
		files     bool
		key       byte
		reset     bool
		addErr    error
		policyErr error

		wantCreated bool
		wantErr     error // errors.Is target; errAny: any error
		wantSet     int
		wantFiles   bool // the directory's file is still there
	}{
		{name: "new directory is encrypted", key: 1, wantCreated: true, wantSet: 1},
		{name: "empty clear directory is encrypted", exists: true, key: 1, wantCreated: true, wantSet: 1},
		{name: "same key unlocks", exists: true, encWith: 1, files: true, key: 1, wantFiles: true},
		{name: "another key is refused", exists: true, encWith: 2, files: true, key: 1, wantErr: ErrWrongKey, wantFiles: true},
		{name: "another key with reset wipes", exists: true, encWith: 2, files: true, key: 1, reset: true, wantCreated: true, wantSet: 1},
		{name: "same key with reset wipes too", exists: true, encWith: 1, files: true, key: 1, reset: true, wantCreated: true, wantSet: 1},
		{name: "clear files are refused", exists: true, encWith: none, files: true, key: 1, wantErr: ErrNotEmpty, wantFiles: true},
		{name: "clear files with reset are wiped", exists: true, files: true, key: 1, reset: true, wantCreated: true, wantSet: 1},
		{name: "key refused by the kernel", exists: true, files: true, key: 1, reset: true, addErr: errAny, wantErr: errAny, wantFiles: true},
		{name: "policy unreadable", exists: true, key: 1, policyErr: errAny, wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "vol")
			k := &fakeKernel{t: t, enc: map[string]*os.File{}, ids: map[string]Identifier{}, addErr: tt.addErr, policyErr: tt.policyErr}
			if tt.exists {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if tt.encWith != none {
					k.encrypt(dir, Identifier{tt.encWith})
				}
				if tt.files {
					if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			id, created, err := k.kernel().setup("/mnt", dir, []byte{tt.key, 0}, tt.reset)
			switch {
			case tt.wantErr == nil && err != nil,
				tt.wantErr == errAny && err == nil,
				tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("setup = %v, want error %v", err, tt.wantErr)
			}
			if created != tt.wantCreated || k.set != tt.wantSet {
				t.Errorf("setup: created %v, %d SetPolicy; want %v, %d", created, k.set, tt.wantCreated, tt.wantSet)
			}
			if id != (Identifier{tt.key}) {
				t.Errorf("setup: identifier %s, want the key's %s", id, Identifier{tt.key})
			}
			_, statErr := os.Stat(filepath.Join(dir, "f"))
			if got := statErr == nil; got != tt.wantFiles {
				t.Errorf("file kept: %v, want %v", got, tt.wantFiles)
			}
			if tt.wantErr == nil {
				if have, enc, _ := k.kernel().policy(dir); !enc || have != id {
					t.Errorf("after setup: policy %s (encrypted %v), want %s", have, enc, id)
				}
			}
		})
	}
}

// errAny stands for any error in the table above.
var errAny = errors.New("any error")
