package slider

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteSample saves puzzles as PNGs for a person to look at: each file
// shows the background, then the piece on its own, then the piece dropped
// into its hole. It runs only when SLIDER_SAMPLE_DIR names a directory
// ("-" for a fresh temporary one). The README's samples are made so, from
// fixed seeds (SLIDER_SAMPLE_SEEDED=1), so that they can be made again:
//
//	SLIDER_SAMPLE_DIR=docs/slider SLIDER_SAMPLE_SEEDED=1 go test -run TestWriteSample ./server/captcha/slider/
func TestWriteSample(t *testing.T) {
	dir := os.Getenv("SLIDER_SAMPLE_DIR")
	if dir == "" {
		t.Skip("set SLIDER_SAMPLE_DIR to write sample puzzles")
	}
	if dir == "-" {
		var err error
		if dir, err = os.MkdirTemp("", "slider-sample-"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		r, err := render(DefaultWidth, DefaultHeight, DefaultPieceSize)
		if os.Getenv("SLIDER_SAMPLE_SEEDED") == "1" {
			r, err = renderSeeded([32]byte{'s', 'a', 'm', 'p', 'l', 'e', byte(i)}, DefaultWidth, DefaultHeight, DefaultPieceSize)
		}
		if err != nil {
			t.Fatal(err)
		}
		bg, piece := decodeB64PNG(t, r.background), decodeB64PNG(t, r.piece)
		w, h, p := bg.Bounds().Dx(), bg.Bounds().Dy(), piece.Bounds().Dx()
		sheet := image.NewRGBA(image.Rect(0, 0, w, 2*h+p+8))
		draw.Draw(sheet, sheet.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(sheet, bg.Bounds(), bg, image.Point{}, draw.Src)
		draw.Draw(sheet, image.Rect(4, h+4, 4+p, h+4+p), piece, image.Point{}, draw.Over)
		solved := image.Rect(0, h+p+8, w, 2*h+p+8)
		draw.Draw(sheet, solved, bg, image.Point{}, draw.Src)
		draw.Draw(sheet, image.Rect(r.x, solved.Min.Y+r.y, r.x+p, solved.Min.Y+r.y+p), piece, image.Point{}, draw.Over)
		name := filepath.Join(dir, "puzzle-"+string(rune('a'+i))+".png")
		var buf bytes.Buffer
		if err := png.Encode(&buf, sheet); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (answer x=%d y=%d)", name, r.x, r.y)
	}
}

// decodeB64PNG decodes a base64 PNG or fails the test.
func decodeB64PNG(t testing.TB, s string) image.Image {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("png: %v", err)
	}
	return img
}
