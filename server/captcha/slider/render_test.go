package slider

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"
)

// Two puzzles are different pictures, not one picture with the hole moved.
func TestBackgroundsDiffer(t *testing.T) {
	a, err := render(DefaultWidth, DefaultHeight, DefaultPieceSize)
	if err != nil {
		t.Fatal(err)
	}
	b, err := render(DefaultWidth, DefaultHeight, DefaultPieceSize)
	if err != nil {
		t.Fatal(err)
	}
	ia, ib := decodeB64PNG(t, a.background), decodeB64PNG(t, b.background)
	// The mean difference per channel over the whole picture: over 300
	// pairs it was never below 24 (median 47), so 10 means "alike".
	var diff float64
	for y := range DefaultHeight {
		for x := range DefaultWidth {
			ca := color.RGBAModel.Convert(ia.At(x, y)).(color.RGBA)
			cb := color.RGBAModel.Convert(ib.At(x, y)).(color.RGBA)
			diff += math.Abs(float64(ca.R)-float64(cb.R)) + math.Abs(float64(ca.G)-float64(cb.G)) + math.Abs(float64(ca.B)-float64(cb.B))
		}
	}
	if mean := diff / (3 * DefaultWidth * DefaultHeight); mean < 10 {
		t.Errorf("two backgrounds differ by %.1f per channel on average: too alike", mean)
	}
}

// The hole is not one flat colour that a single pixel comparison finds:
// its pixels vary, in colour and in brightness.
func TestHoleIsNotFlat(t *testing.T) {
	for range 3 {
		r, err := render(DefaultWidth, DefaultHeight, DefaultPieceSize)
		if err != nil {
			t.Fatal(err)
		}
		bg := decodeB64PNG(t, r.background)
		// The body's middle, inside every shape: margin 0.17 of the piece.
		m := DefaultPieceSize/5 + 2
		colours := map[color.RGBA]bool{}
		var sum, sumSq, n float64
		for y := r.y + m; y < r.y+DefaultPieceSize-m; y++ {
			for x := r.x + m; x < r.x+DefaultPieceSize-m; x++ {
				c := color.RGBAModel.Convert(bg.At(x, y)).(color.RGBA)
				colours[c] = true
				l := 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
				sum, sumSq, n = sum+l, sumSq+l*l, n+1
			}
		}
		// Over 200 puzzles the least were an s.d. of 4.2 and 96% distinct
		// colours; a flat fill gives 0 and one colour.
		sd := math.Sqrt(sumSq/n - (sum/n)*(sum/n))
		if len(colours) < int(n)/4 || sd < 2 {
			t.Errorf("hole has %d colours in %d pixels, brightness s.d. %.2f: too flat", len(colours), int(n), sd)
		}
	}
}

// The piece is transparent outside the shape, opaque inside, and its
// size never depends on where the hole is.
func TestPieceImage(t *testing.T) {
	r, err := render(DefaultWidth, DefaultHeight, DefaultPieceSize)
	if err != nil {
		t.Fatal(err)
	}
	piece := decodeB64PNG(t, r.piece)
	p := DefaultPieceSize
	if piece.Bounds() != image.Rect(0, 0, p, p) {
		t.Fatalf("piece bounds %v", piece.Bounds())
	}
	if _, _, _, a := piece.At(0, 0).RGBA(); a != 0 {
		t.Errorf("corner alpha %d, want transparent", a)
	}
	if _, _, _, a := piece.At(p/2, p/2).RGBA(); a != 0xffff {
		t.Errorf("centre alpha %d, want opaque", a)
	}
}

// The hole's x is spread over its whole range, so it cannot be guessed
// better than by chance.
func TestAnswerRange(t *testing.T) {
	lo, hi := xRange(DefaultWidth, DefaultPieceSize)
	if lo < DefaultPieceSize {
		t.Errorf("lowest x %d lets the hole touch the piece's start", lo)
	}
	if hi+DefaultPieceSize > DefaultWidth {
		t.Errorf("highest x %d puts the hole outside the picture", hi)
	}
}

// The PNG writer's output decodes with image/png to the same pixels.
func TestEncodePNGRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rgba := image.NewRGBA(image.Rect(0, 0, 37, 11))
	nrgba := image.NewNRGBA(image.Rect(0, 0, 13, 7))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(rng.Uint32())
		if i%4 == 3 {
			rgba.Pix[i] = 255
		}
	}
	for i := range nrgba.Pix {
		nrgba.Pix[i] = uint8(rng.Uint32())
	}
	for _, tt := range []struct {
		name string
		img  image.Image
		enc  func() (string, error)
	}{
		{"rgb", rgba, func() (string, error) { return encodeRGB(rgba) }},
		{"rgba", nrgba, func() (string, error) { return encodeNRGBA(nrgba) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.enc()
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := base64.StdEncoding.DecodeString(s)
			got, err := png.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			b := tt.img.Bounds()
			if got.Bounds() != b {
				t.Fatalf("bounds %v, want %v", got.Bounds(), b)
			}
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					if g, w := color.NRGBAModel.Convert(got.At(x, y)), color.NRGBAModel.Convert(tt.img.At(x, y)); g != w {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
					}
				}
			}
		})
	}
}

// BenchmarkRender compares, in one run, drawing and encoding a puzzle with
// the renderer of before issue 10 ("before") and today's ("today").
func BenchmarkRender(b *testing.B) {
	for _, r := range []struct {
		name   string
		render func(w, h, p int) (rendered, error)
	}{{"before", oldRender}, {"today", render}} {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := r.render(DefaultWidth, DefaultHeight, DefaultPieceSize); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
