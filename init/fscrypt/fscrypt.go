// Package fscrypt encrypts a directory of an ext4 file system with an
// fscrypt v2 policy (AES-256-XTS contents, AES-256-CTS names), through the
// kernel's ioctls: the master key is added to the file system's keyring,
// and the directory's policy names the key's identifier. Without the key
// the directory's names and contents are unreadable, though its files can
// still be deleted (which is how a reset works).
package fscrypt

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Identifier is what the kernel derives from a master key, and what a v2
// policy names.
type Identifier [unix.FSCRYPT_KEY_IDENTIFIER_SIZE]byte

func (id Identifier) String() string { return fmt.Sprintf("%x", id[:]) }

// ErrWrongKey means a directory is encrypted with another key than ours.
var ErrWrongKey = errors.New("encrypted with another key")

// ErrNotEmpty means a directory to encrypt already holds clear files.
var ErrNotEmpty = errors.New("holds unencrypted files")

func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	c, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno unix.Errno
	cerr := c.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(arg))
	})
	if cerr != nil {
		return cerr
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// AddKey adds a master key to the keyring of the file system mounted at
// mnt, and returns its identifier. Adding a key twice is harmless. The
// kernel refuses keys shorter than 16 bytes or longer than 64; b2c's
// length, 64 bytes for AES-256-XTS, is checked where the command line
// is parsed (cmdline.FscryptKey), so that it is checked once.
func AddKey(mnt string, key []byte) (Identifier, error) {
	var id Identifier
	f, err := os.Open(mnt)
	if err != nil {
		return id, err
	}
	defer f.Close()
	// struct fscrypt_add_key_arg is followed by the raw key.
	hdr := int(unsafe.Sizeof(unix.FscryptAddKeyArg{}))
	buf := make([]byte, hdr+len(key))
	arg := (*unix.FscryptAddKeyArg)(unsafe.Pointer(&buf[0]))
	arg.Key_spec.Type = unix.FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER
	arg.Raw_size = uint32(len(key))
	copy(buf[hdr:], key)
	err = ioctl(f, unix.FS_IOC_ADD_ENCRYPTION_KEY, unsafe.Pointer(&buf[0]))
	// Wipe our copy of the key, whatever happened.
	clear(buf[hdr:])
	if err != nil {
		return id, fmt.Errorf("add an fscrypt key to %s: %w", mnt, err)
	}
	copy(id[:], arg.Key_spec.U[:len(id)])
	return id, nil
}

// RemoveKey removes a key from mnt's keyring: its directories lock again
// once their files are closed.
func RemoveKey(mnt string, id Identifier) error {
	f, err := os.Open(mnt)
	if err != nil {
		return err
	}
	defer f.Close()
	var arg unix.FscryptRemoveKeyArg
	arg.Key_spec.Type = unix.FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER
	copy(arg.Key_spec.U[:], id[:])
	if err := ioctl(f, unix.FS_IOC_REMOVE_ENCRYPTION_KEY, unsafe.Pointer(&arg)); err != nil {
		return fmt.Errorf("remove the fscrypt key %s from %s: %w", id, mnt, err)
	}
	return nil
}

// Policy returns the identifier of the key dir is encrypted with, and
// false when dir is not encrypted.
func Policy(dir string) (Identifier, bool, error) {
	var id Identifier
	f, err := os.Open(dir)
	if err != nil {
		return id, false, err
	}
	defer f.Close()
	arg := unix.FscryptGetPolicyExArg{Size: uint64(len(unix.FscryptGetPolicyExArg{}.Policy))}
	switch err := ioctl(f, unix.FS_IOC_GET_ENCRYPTION_POLICY_EX, unsafe.Pointer(&arg)); {
	case errors.Is(err, unix.ENODATA):
		return id, false, nil
	case err != nil:
		return id, false, fmt.Errorf("fscrypt policy of %s: %w", dir, err)
	}
	p := (*unix.FscryptPolicyV2)(unsafe.Pointer(&arg.Policy[0]))
	if p.Version != unix.FSCRYPT_POLICY_V2 {
		return id, true, fmt.Errorf("%s has an fscrypt v%d policy, not v2", dir, p.Version+1)
	}
	copy(id[:], p.Master_key_identifier[:])
	return id, true, nil
}

// SetPolicy encrypts the empty directory dir with the key id, which must
// have been added.
func SetPolicy(dir string, id Identifier) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	p := unix.FscryptPolicyV2{
		Version:                   unix.FSCRYPT_POLICY_V2,
		Contents_encryption_mode:  unix.FSCRYPT_MODE_AES_256_XTS,
		Filenames_encryption_mode: unix.FSCRYPT_MODE_AES_256_CTS,
		Flags:                     unix.FSCRYPT_POLICY_FLAGS_PAD_32,
		Master_key_identifier:     id,
	}
	if err := ioctl(f, unix.FS_IOC_SET_ENCRYPTION_POLICY, unsafe.Pointer(&p)); err != nil {
		return fmt.Errorf("encrypt %s: %w", dir, err)
	}
	return nil
}

// Setup makes dir, on the ext4 file system mounted at mnt, an encrypted
// directory unlocked with key. A new or empty directory is encrypted; one
// encrypted with key is unlocked; one encrypted with another key, or
// holding clear files, is an error unless reset, which wipes it and
// encrypts it anew. Setup returns the key's identifier, for RemoveKey, and
// whether it encrypted the directory (rather than unlocked it).
func Setup(mnt, dir string, key []byte, reset bool) (Identifier, bool, error) {
	return kernel{addKey: AddKey, policy: Policy, setPolicy: SetPolicy}.setup(mnt, dir, key, reset)
}

// kernel is what Setup asks of the kernel through ioctls. Its fields are
// the seam that lets a test check Setup's decisions without root.
type kernel struct {
	addKey    func(mnt string, key []byte) (Identifier, error)
	policy    func(dir string) (Identifier, bool, error)
	setPolicy func(dir string, id Identifier) error
}

func (k kernel) setup(mnt, dir string, key []byte, reset bool) (Identifier, bool, error) {
	id, err := k.addKey(mnt, key)
	if err != nil {
		return id, false, err
	}
	if reset {
		if err := os.RemoveAll(dir); err != nil {
			return id, false, fmt.Errorf("wipe %s: %w", dir, err)
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return id, false, err
	}
	have, encrypted, err := k.policy(dir)
	switch {
	case err != nil:
		return id, false, err
	case encrypted && have == id:
		return id, false, nil
	case encrypted:
		return id, false, fmt.Errorf("%s: %w (%s)", dir, ErrWrongKey, have)
	}
	if names, err := os.ReadDir(dir); err != nil {
		return id, false, err
	} else if len(names) > 0 {
		return id, false, fmt.Errorf("%s: %w", dir, ErrNotEmpty)
	}
	return id, true, k.setPolicy(dir, id)
}
