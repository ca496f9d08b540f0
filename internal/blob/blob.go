// Package blob stores files such as avatars and attachments. Local disk is
// the default; names are slash-separated paths chosen by Switchboard, never by
// a client, and the disk store refuses any name that would leave its folder.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/errs"
)

// Store keeps named files.
type Store interface {
	Put(ctx context.Context, name string, r io.Reader) error
	Open(ctx context.Context, name string) (io.ReadSeekCloser, error)
	Delete(ctx context.Context, name string) error
}

// Disk is a Store in a local directory.
type Disk struct {
	root *os.Root
}

// OpenDisk returns a Store in dir, creating it if needed.
func OpenDisk(dir string) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blob: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", dir, err)
	}
	return &Disk{root: root}, nil
}

// Close releases the directory.
func (d *Disk) Close() error { return d.root.Close() }

func checkName(name string) error {
	if name == "" || !fs.ValidPath(name) || strings.Contains(name, "\\") || path.Clean(name) != name {
		return errs.Invalid("name", "invalid file name")
	}
	return nil
}

// Put writes the file atomically: readers never see half of it.
func (d *Disk) Put(ctx context.Context, name string, r io.Reader) error {
	if err := checkName(name); err != nil {
		return err
	}
	if dir := path.Dir(name); dir != "." {
		if err := d.root.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("blob: create folder for %s: %w", name, err)
		}
	}
	tmp := name + ".part"
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("blob: create %s: %w", name, err)
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.root.Rename(tmp, name)
	}
	if err != nil {
		_ = d.root.Remove(tmp)
		return fmt.Errorf("blob: write %s: %w", name, err)
	}
	return nil
}

// Open returns the file's content; an unknown name is ErrNotFound.
func (d *Disk) Open(ctx context.Context, name string) (io.ReadSeekCloser, error) {
	if err := checkName(name); err != nil {
		return nil, errs.NotFound("file")
	}
	f, err := d.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.NotFound("file")
	}
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", name, err)
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		return nil, errs.NotFound("file")
	}
	return f, nil
}

// Delete removes the file; deleting a missing file is not an error.
func (d *Disk) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := d.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: delete %s: %w", name, err)
	}
	return nil
}
