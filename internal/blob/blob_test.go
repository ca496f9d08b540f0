package blob

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-hq/switchboard/internal/errs"
)

func TestDiskStoresReadsAndDeletesFiles(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Put(ctx, "avatars/a.png", strings.NewReader("png bytes")); err != nil {
		t.Fatal(err)
	}
	f, err := d.Open(ctx, "avatars/a.png")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != "png bytes" {
		t.Fatalf("read %q", got)
	}
	if err := d.Delete(ctx, "avatars/a.png"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "avatars/a.png"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("after delete: %v, want not found", err)
	}
	if err := d.Delete(ctx, "avatars/a.png"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestDiskRefusesNamesOutsideItsFolder(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	secret := filepath.Join(parent, "secret.txt")
	os.WriteFile(secret, []byte("secret"), 0o600)
	d, err := OpenDisk(filepath.Join(parent, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A symlink planted inside the folder must not lead out of it either.
	os.Symlink(secret, filepath.Join(parent, "blobs", "link"))
	for _, name := range []string{"../secret.txt", "/etc/passwd", "a/../../secret.txt", `..\secret.txt`, "", "link", "avatars/"} {
		if _, err := d.Open(ctx, name); err == nil {
			t.Errorf("Open(%q) succeeded", name)
		}
		if err := d.Put(ctx, name, strings.NewReader("x")); err == nil && name != "link" {
			t.Errorf("Put(%q) succeeded", name)
		}
	}
	if b, _ := os.ReadFile(secret); string(b) != "secret" {
		t.Fatalf("file outside the store changed: %q", b)
	}
}
