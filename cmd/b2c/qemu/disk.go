package qemu

import (
	"errors"
	"fmt"
	"os"
)

// CreateDisk makes path a sparse raw disk image of size bytes, unless it
// exists: a disk that exists is kept as it is, whatever its size, since it
// holds what earlier runs left there. It tells whether it made the file.
func CreateDisk(path string, size int64) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create disk image: %w", err)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		os.Remove(path)
		return false, fmt.Errorf("create disk image %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("create disk image %s: %w", path, err)
	}
	return true, nil
}
