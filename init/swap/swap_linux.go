package swap

import (
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// File makes path a swap file of size bytes and enables it. The file is
// allocated, not sparse: the kernel refuses swap files with holes.
func File(path string, size int64) error {
	h, err := Header(size, os.Getpagesize())
	if err != nil {
		return err
	}
	// A file from an earlier boot may have another size: start afresh.
	os.Remove(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("swap file %s: %w", path, err)
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), 0, 0, size); err != nil {
		return fmt.Errorf("allocate swap file %s: %w", path, err)
	}
	if _, err := f.WriteAt(h, 0); err != nil {
		return fmt.Errorf("swap file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("swap file %s: %w", path, err)
	}
	return On(path)
}

// Device enables a swap device, writing a swap signature first when
// format is set (a device that holds nothing else).
func Device(path string, format bool) error {
	if format {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("swap device %s: %w", path, err)
		}
		size, err := f.Seek(0, 2)
		if err == nil {
			var h []byte
			if h, err = Header(size, os.Getpagesize()); err == nil {
				_, err = f.WriteAt(h, 0)
			}
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("swap device %s: %w", path, err)
		}
	}
	return On(path)
}

// On enables swapping on path.
func On(path string) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_SWAPON, uintptr(unsafe.Pointer(p)), 0, 0); errno != 0 {
		return fmt.Errorf("swapon %s: %w", path, errno)
	}
	return nil
}

// Off disables swapping on path.
func Off(path string) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_SWAPOFF, uintptr(unsafe.Pointer(p)), 0, 0); errno != 0 {
		return fmt.Errorf("swapoff %s: %w", path, errno)
	}
	return nil
}

// SetSwappiness writes vm.swappiness.
func SetSwappiness(n int) error {
	if err := os.WriteFile("/proc/sys/vm/swappiness", []byte(strconv.Itoa(n)), 0o644); err != nil {
		return fmt.Errorf("set vm.swappiness=%d: %w", n, err)
	}
	return nil
}
