package image_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/image"
)

// TestReproducible builds the image twice from the same inputs: the same
// digest and the same tarball bytes; another timestamp or version gives
// another digest (the inputs are in the image, not ignored). The binary is
// a small stand-in: only its bytes matter here.
func TestReproducible(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "smscode")
	if err := os.WriteFile(bin, []byte("#!/not/a/real/binary\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	build := func(name string, created time.Time, version string) (string, []byte) {
		t.Helper()
		img, err := image.Build(image.Options{Binary: bin, Version: version, Revision: "r", Created: created})
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := image.WriteTarball(p, img, "smscode:"+version, created); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return d.String(), b
	}
	d1, b1 := build("a.tar", at, "v1")
	d2, b2 := build("b.tar", at, "v1")
	if d1 != d2 || !bytes.Equal(b1, b2) {
		t.Errorf("same inputs, different images: %s and %s (tarballs equal: %v)", d1, d2, bytes.Equal(b1, b2))
	}
	if d3, _ := build("c.tar", at.Add(time.Second), "v1"); d3 == d1 {
		t.Errorf("another timestamp, same digest %s", d3)
	}
	if d4, _ := build("d.tar", at, "v2"); d4 == d1 {
		t.Errorf("another version, same digest %s", d4)
	}
}
