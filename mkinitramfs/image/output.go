package image

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
	"github.com/u-root/mkuimage/cpio"
	"github.com/u-root/mkuimage/uimage/initramfs"
)

// zstdOutput is an initramfs.WriteOpener that compresses the newc archive
// as mkuimage writes it, into a temporary file next to path, and indexes
// its records for Index.Check. commit moves it into place: a failed build
// or check leaves the previous image alone.
type zstdOutput struct {
	path   string
	level  zstd.EncoderLevel
	window int

	w *zstdWriter // set by OpenWriter
}

var _ initramfs.WriteOpener = (*zstdOutput)(nil)

type zstdWriter struct {
	cpio.RecordWriter
	index Index
	raw   *countWriter
	enc   *zstd.Encoder
	f     *os.File
	done  bool // Finish succeeded
	moved bool // commit succeeded
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// OpenWriter implements initramfs.WriteOpener.
func (o *zstdOutput) OpenWriter() (initramfs.Writer, error) {
	if o.w != nil {
		return nil, fmt.Errorf("%s: opened twice", o.path)
	}
	if err := os.MkdirAll(filepath.Dir(o.path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(o.path), filepath.Base(o.path)+".*.tmp")
	if err != nil {
		return nil, err
	}
	// CreateTemp makes the file 0600; an image is for anyone to boot.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	enc, err := zstd.NewWriter(f, zstd.WithEncoderLevel(o.level), zstd.WithWindowSize(o.window))
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("zstd: %w", err)
	}
	raw := &countWriter{w: enc}
	o.w = &zstdWriter{RecordWriter: cpio.Newc.Writer(raw), index: Index{}, raw: raw, enc: enc, f: f}
	return o.w, nil
}

// WriteRecord indexes r and writes it.
func (w *zstdWriter) WriteRecord(r cpio.Record) error {
	// mkuimage's binary builder adds its temporary directory as the
	// archive's root ".", mode 0700, and the kernel applies that mode to
	// the root of the booted system.
	if cpio.Normalize(r.Name) == "." && r.Mode&cpio.S_IFMT == cpio.S_IFDIR {
		r.Mode = cpio.S_IFDIR | 0o755
	}
	if err := w.index.Add(r); err != nil {
		return err
	}
	return w.RecordWriter.WriteRecord(r)
}

// Finish implements initramfs.Writer: it ends the archive and the zstd
// frame and closes the temporary file.
func (w *zstdWriter) Finish() error {
	err := cpio.WriteTrailer(w.RecordWriter)
	if cerr := w.enc.Close(); err == nil {
		err = cerr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", w.f.Name(), err)
	}
	w.done = true
	return nil
}

// commit moves the finished archive to o.path and returns its raw and
// compressed sizes.
func (o *zstdOutput) commit() (raw, compressed int64, err error) {
	if o.w == nil || !o.w.done {
		return 0, 0, fmt.Errorf("%s: archive not finished", o.path)
	}
	st, err := os.Stat(o.w.f.Name())
	if err != nil {
		return 0, 0, err
	}
	if err := os.Rename(o.w.f.Name(), o.path); err != nil {
		return 0, 0, err
	}
	o.w.moved = true
	return o.w.raw.n, st.Size(), nil
}

// abort removes the temporary file of an uncommitted archive.
func (o *zstdOutput) abort() {
	if o.w != nil && !o.w.moved {
		o.w.f.Close()
		os.Remove(o.w.f.Name())
	}
}
