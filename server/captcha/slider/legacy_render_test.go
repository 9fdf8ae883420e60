package slider

// This file keeps the renderer of before issue 10 (the one bots solved
// 100% of), only so that the benchmarks and the bot tests can compare the
// new one with it in the same run. The server never calls it.

import (
	crand "crypto/rand"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// oldRgb is a colour with channels in [0, 255].
type oldRgb [3]float32

var oldWhite = oldRgb{255, 255, 255}

// Strengths of the drawing. The hole keeps 38% of the light at its edge
// and 58% in its middle, an inner shadow that reads as depth to a person;
// decoys keep 84%, visible on a second look but never mistaken for the
// hole next to its bright outline.
const (
	oldHoleEdgeKeep   = 0.38
	oldHoleMiddleKeep = 0.58
	oldDecoyKeep      = 0.84
	oldNoiseAmplitude = 4 // ± per channel over the whole picture
	oldHoleNoise      = 9 // ± per channel added again inside the hole
)

// oldRender draws a puzzle of w×h pixels with a p-pixel piece. It draws from
// a ChaCha8 generator seeded from crypto/rand: the answer must not be
// predictable from earlier puzzles, and one generator per puzzle needs no
// lock.
func oldRender(w, h, p int) (rendered, error) {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return rendered{}, err
	}
	rng := rand.New(rand.NewChaCha8(seed))

	lo, hi := xRange(w, p)
	x := lo + rng.IntN(hi-lo+1)
	y := 4 + rng.IntN(h-p-8+1)

	bg := image.NewRGBA(image.Rect(0, 0, w, h))
	oldPaintScene(bg, rng)
	oldPaintDecoys(bg, rng, p, x)
	oldAddNoise(bg, rng, bg.Bounds(), oldNoiseAmplitude)

	sh := newShape(rng, p)
	field := sh.field()
	piece := oldCutPiece(bg, field, p, x, y)
	oldCutHole(bg, rng, field, p, x, y)

	bgPNG, err := encodeRGB(bg)
	if err != nil {
		return rendered{}, err
	}
	piecePNG, err := encodeNRGBA(piece)
	if err != nil {
		return rendered{}, err
	}
	return rendered{background: bgPNG, piece: piecePNG, x: x, y: y}, nil
}

// oldPaintScene paints a random landscape: a tilted two-colour gradient, a
// soft glow, two to four wavy hills and some bokeh circles, in colours
// drawn around one random hue, so that no two puzzles look alike.
func oldPaintScene(img *image.RGBA, rng *rand.Rand) {
	hue := rng.Float32() * 360
	sky1 := oldHsv(hue, 0.25+0.3*rng.Float32(), 0.92+0.08*rng.Float32())
	sky2 := oldHsv(hue+20+60*rng.Float32(), 0.45+0.35*rng.Float32(), 0.6+0.25*rng.Float32())
	oldPaintGradient(img, sky1, sky2, rng.Float64()*2*math.Pi)

	w, h := float32(img.Rect.Dx()), float32(img.Rect.Dy())
	glow := oldHsv(hue+180*rng.Float32(), 0.15, 1)
	oldPaintDisc(img, w*rng.Float32(), h*0.4*rng.Float32(), 25+35*rng.Float32(), glow, 0.55, 1)

	hills := 2 + rng.IntN(3)
	for i := range hills {
		base := h * (0.38 + 0.5*float32(i)/float32(hills) + 0.08*rng.Float32())
		shift := []float32{-40, 30, 150, 200}[rng.IntN(4)]
		c := oldHsv(hue+shift+20*rng.Float32(), 0.35+0.4*rng.Float32(), 0.85-0.45*float32(i)/float32(hills))
		oldPaintHill(img, rng, base, 4+h*0.12*rng.Float32(), c, 0.65+0.3*rng.Float32())
	}

	for range 6 + rng.IntN(10) {
		c := oldHsv(hue+120*rng.Float32()-60, 0.1+0.3*rng.Float32(), 1)
		r := 3 + 20*rng.Float32()
		oldPaintDisc(img, w*rng.Float32(), h*rng.Float32(), r, c, 0.12+0.25*rng.Float32(), 0.4)
	}
}

// oldPaintGradient fills img with a linear gradient from c1 to c2 along the
// direction angle.
func oldPaintGradient(img *image.RGBA, c1, c2 oldRgb, angle float64) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	dx, dy := float32(math.Cos(angle)), float32(math.Sin(angle))
	// The projections of the corners bound t to [0, 1].
	lo := min(0, dx*float32(w)) + min(0, dy*float32(h))
	hi := max(0, dx*float32(w)) + max(0, dy*float32(h))
	for y := range h {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			t := (dx*float32(x) + dy*float32(y) - lo) / (hi - lo)
			i := 4 * x
			for ch := range 3 {
				row[i+ch] = uint8(c1[ch] + (c2[ch]-c1[ch])*t)
			}
			row[i+3] = 255
		}
	}
}

// oldPaintHill blends c, at opacity alpha, below a wavy line around base made
// of two sine waves, anti-aliased along the line.
func oldPaintHill(img *image.RGBA, rng *rand.Rand, base, amp float32, c oldRgb, alpha float32) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	f1 := (0.5 + 2*rng.Float64()) * 2 * math.Pi / float64(w)
	f2 := (2 + 4*rng.Float64()) * 2 * math.Pi / float64(w)
	p1, p2 := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
	for x := range w {
		top := base + amp*float32(math.Sin(f1*float64(x)+p1)+0.35*math.Sin(f2*float64(x)+p2))
		for y := max(0, int(top)); y < h; y++ {
			oldBlend(img, x, y, c, alpha*clamp01(float32(y)+0.5-top+0.5))
		}
	}
}

// oldPaintDisc blends a disc of colour c at opacity alpha, flat inside and
// fading to nothing over the outer soft×r of its radius.
func oldPaintDisc(img *image.RGBA, cx, cy, r float32, c oldRgb, alpha, soft float32) {
	b := image.Rect(int(cx-r)-1, int(cy-r)-1, int(cx+r)+2, int(cy+r)+2).Intersect(img.Rect)
	edge := max(1.5, soft*r)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			d := hypot32(float32(x)+0.5-cx, float32(y)+0.5-cy)
			if a := alpha * clamp01((r-d)/edge); a > 0 {
				oldBlend(img, x, y, c, a)
			}
		}
	}
}

// oldPaintDecoys darkens one or two faint jigsaw shapes away from the hole and
// from each other, so that the hole is not the only piece-like edge in the
// picture.
func oldPaintDecoys(img *image.RGBA, rng *rand.Rand, p, holeX int) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	taken := []int{holeX}
	for range 1 + rng.IntN(2) {
		// A few tries find a free column in all but the narrowest
		// pictures; when they do not, one decoy fewer does no harm.
		for range 8 {
			dx := rng.IntN(w - p + 1)
			if oldOverlaps(dx, taken, p) {
				continue
			}
			taken = append(taken, dx)
			sh := newShape(rng, p)
			oldShade(img, sh.field(), p, dx, rng.IntN(h-p+1), nil, oldDecoyKeep, oldDecoyKeep, 0.25)
			break
		}
	}
}

// oldOverlaps reports whether a p-wide column at x oldOverlaps one at any of xs.
func oldOverlaps(x int, xs []int, p int) bool {
	for _, o := range xs {
		if x > o-p && x < o+p {
			return true
		}
	}
	return false
}

// oldCutPiece copies the piece at (ox, oy) out of img: the pixels inside the
// outline with anti-aliased edges, a light oldStroke just inside the outline
// and a faint dark line just outside it, so that the piece stands out on
// light and dark pictures alike; transparent elsewhere.
func oldCutPiece(img *image.RGBA, field []float32, p, ox, oy int) *image.NRGBA {
	piece := image.NewNRGBA(image.Rect(0, 0, p, p))
	for y := range p {
		for x := range p {
			d := field[y*p+x]
			cover := clamp01(0.5 - d)
			halo := 0.45 * clamp01(1-abs32(d-1)/1.2)
			a := cover + halo*(1-cover)
			if a <= 0 {
				continue
			}
			src := img.RGBAAt(ox+x, oy+y)
			in := oldRgb{float32(src.R), float32(src.G), float32(src.B)}
			in = oldMix(in, oldWhite, 0.9*oldStroke(d))
			var out oldRgb
			for ch := range 3 {
				// Premultiplied sum over the total alpha; the halo is black.
				out[ch] = in[ch] * cover / a
			}
			piece.SetNRGBA(x, y, color.NRGBA{uint8(out[0]), uint8(out[1]), uint8(out[2]), uint8(255*a + 0.5)})
		}
	}
	return piece
}

// oldCutHole turns the piece's place in img into a hole: blurred, darkened
// with an inner shadow, sprinkled with fresh noise and outlined, so that a
// person sees it at once while no single colour marks its pixels.
func oldCutHole(img *image.RGBA, rng *rand.Rand, field []float32, p, ox, oy int) {
	region := image.Rect(ox, oy, ox+p, oy+p)
	blurred := oldBoxBlur(img, region)
	oldShade(img, field, p, ox, oy, blurred, oldHoleEdgeKeep, oldHoleMiddleKeep, 0.8)
	oldAddNoise(img, rng, region, oldHoleNoise)
}

// oldShade darkens the shape of field at (ox, oy) in img to keep the edge
// fraction of its light at the outline, rising to middle five pixels in,
// and strokes the outline in oldWhite at opacity line. When src is not nil
// the darkened colours are taken from it (a blurred copy) instead of img.
func oldShade(img *image.RGBA, field []float32, p, ox, oy int, src *image.RGBA, edge, middle, line float32) {
	if src == nil {
		src = img
	}
	for y := range p {
		for x := range p {
			d := field[y*p+x]
			cover := clamp01(0.5 - d)
			if cover <= 0 && d > 2 {
				continue
			}
			c := img.RGBAAt(ox+x, oy+y)
			s := src.RGBAAt(ox+x, oy+y)
			keep := edge + (middle-edge)*clamp01(-d/5)
			var out oldRgb
			for ch, v := range [3]uint8{c.R, c.G, c.B} {
				dark := float32([3]uint8{s.R, s.G, s.B}[ch]) * keep
				out[ch] = float32(v) + (dark-float32(v))*cover
			}
			out = oldMix(out, oldWhite, line*oldStroke(d))
			img.SetRGBA(ox+x, oy+y, color.RGBA{uint8(out[0]), uint8(out[1]), uint8(out[2]), 255})
		}
	}
}

// oldStroke is the opacity of the outline at signed distance d: a line about
// 1.6 px wide just inside the outline.
func oldStroke(d float32) float32 { return clamp01(1 - abs32(d+0.8)/0.9) }

// oldBoxBlur returns the pixels of img in r, each the mean of its 5×5
// neighbourhood in img (clipped to img), as an image whose bounds are r.
func oldBoxBlur(img *image.RGBA, r image.Rectangle) *image.RGBA {
	r = r.Intersect(img.Rect)
	out := image.NewRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			var sum [3]int
			n := 0
			for yy := max(y-2, img.Rect.Min.Y); yy <= min(y+2, img.Rect.Max.Y-1); yy++ {
				for xx := max(x-2, img.Rect.Min.X); xx <= min(x+2, img.Rect.Max.X-1); xx++ {
					i := img.PixOffset(xx, yy)
					sum[0] += int(img.Pix[i])
					sum[1] += int(img.Pix[i+1])
					sum[2] += int(img.Pix[i+2])
					n++
				}
			}
			out.SetRGBA(x, y, color.RGBA{uint8(sum[0] / n), uint8(sum[1] / n), uint8(sum[2] / n), 255})
		}
	}
	return out
}

// oldAddNoise adds independent uniform noise of ±amp to each colour channel
// of the pixels of img in r.
func oldAddNoise(img *image.RGBA, rng *rand.Rand, r image.Rectangle, amp int) {
	span := uint64(2*amp + 1)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := img.PixOffset(x, y)
			bits := rng.Uint64() // one draw, split in three, for speed
			for ch := range 3 {
				n := int((bits>>(16*ch))&0xffff%span) - amp
				img.Pix[i+ch] = uint8(min(max(int(img.Pix[i+ch])+n, 0), 255))
			}
		}
	}
}

// oldBlend mixes c into the pixel (x, y) of img at opacity a.
func oldBlend(img *image.RGBA, x, y int, c oldRgb, a float32) {
	i := img.PixOffset(x, y)
	for ch := range 3 {
		v := float32(img.Pix[i+ch])
		img.Pix[i+ch] = uint8(v + (c[ch]-v)*a + 0.5)
	}
}

// oldMix returns a + (b-a)·t.
func oldMix(a, b oldRgb, t float32) oldRgb {
	for ch := range 3 {
		a[ch] += (b[ch] - a[ch]) * t
	}
	return a
}

// oldHsv returns the colour of hue h (degrees, any value), saturation s and
// value v (both in [0, 1]).
func oldHsv(h, s, v float32) oldRgb {
	h = float32(math.Mod(float64(h), 360))
	if h < 0 {
		h += 360
	}
	c := v * s
	hp := h / 60
	x := c * (1 - abs32(float32(math.Mod(float64(hp), 2))-1))
	var r, g, b float32
	switch int(hp) {
	case 0:
		r, g, b = c, x, 0
	case 1:
		r, g, b = x, c, 0
	case 2:
		r, g, b = 0, c, x
	case 3:
		r, g, b = 0, x, c
	case 4:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	m := v - c
	return oldRgb{255 * (r + m), 255 * (g + m), 255 * (b + m)}
}
