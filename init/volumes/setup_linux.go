package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/b2c-dev/b2c/init/fscrypt"
)

// Podman is what the volumes need of podman's service (*podman.Engine).
type Podman interface {
	// RemoveExpired removes the volumes that expire with the pipeline and
	// returns their names.
	RemoveExpired(ctx context.Context) ([]string, error)
	// EnsureVolume creates a volume unless it exists; a non-empty dir
	// makes it a bind of that directory.
	EnsureVolume(ctx context.Context, name, dir, expiration string) error
	// VolumeDir returns the directory that holds a volume's files.
	VolumeDir(ctx context.Context, name string) (string, error)
}

// Setup removes the volumes a previous run left to expire, creates the
// b2c.volume volumes, then the S3 clients and the mirrors of the volumes
// that have one. The first volume that cannot be made is the error.
func (s *Storage) Setup(ctx context.Context, p Podman) error {
	if err := s.setupVolumes(ctx, p); err != nil {
		return err
	}
	return s.setupMirrors(ctx, p)
}

func (s *Storage) setupVolumes(ctx context.Context, p Podman) error {
	if removed, err := p.RemoveExpired(ctx); err != nil {
		s.con.Warnf("%v", err)
	} else if len(removed) > 0 {
		s.con.Logf("Removed the expired volumes of an earlier run: %s", strings.Join(removed, ", "))
	}
	for _, v := range s.cfg.Volumes {
		// One volume after the other: a volume's lines come before the
		// error of the next one.
		plan, err := planVolume(v, s.cache != "", encrypted)
		if err != nil {
			return err
		}
		if err := s.makeDir(plan); err != nil {
			return err
		}
		if err := p.EnsureVolume(ctx, plan.name, plan.dir, plan.expiration); err != nil {
			return err
		}
	}
	return nil
}

// encrypted reports whether dir is encrypted with fscrypt; a directory
// that does not exist is not.
func encrypted(dir string) bool {
	_, enc, err := fscrypt.Policy(dir)
	return err == nil && enc
}

// makeDir makes the directory that podman binds for a volume, encrypted
// or unlocked as the plan says.
func (s *Storage) makeDir(p volumePlan) error {
	switch p.place {
	case onFilesystem:
		if err := os.MkdirAll(p.dir, 0o755); err != nil {
			return fmt.Errorf("volume %s on the file system %s: %w", p.name, p.filesystem, err)
		}
	case onFscrypt:
		return s.encrypt(p)
	}
	return nil
}

// encrypt encrypts or unlocks a volume's directory on the cache, and
// keeps its key's identifier for Unmount.
func (s *Storage) encrypt(p volumePlan) error {
	defer clear(p.key)
	if err := os.MkdirAll(fscryptDir, 0o700); err != nil {
		return err
	}
	id, created, err := fscrypt.Setup(cacheDir, p.dir, p.key, p.fscrypt == fscryptReset)
	// A key added stays in the kernel until removed, whether its
	// directory could be used or not. Two volumes may share a key, which
	// the kernel holds once.
	if id != (fscrypt.Identifier{}) && !slices.Contains(s.keys, id) {
		s.keys = append(s.keys, id)
	}
	if errors.Is(err, fscrypt.ErrWrongKey) {
		return fmt.Errorf("volume %s: its directory on the cache is encrypted with another key; fscrypt_reset_key wipes it and uses the new one", p.name)
	}
	if err != nil {
		return fmt.Errorf("volume %s: %w", p.name, err)
	}
	switch {
	case p.fscrypt == fscryptReset:
		s.con.Logf("Volume %s: wiped and encrypted anew on the cache (fscrypt key %s)", p.name, id)
	case created:
		s.con.Logf("Volume %s: encrypted on the cache (fscrypt key %s)", p.name, id)
	default:
		s.con.Logf("Volume %s: unlocked on the cache (fscrypt key %s)", p.name, id)
	}
	return nil
}
