package slider

import (
	crand "crypto/rand"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
)

// rendered is a drawn puzzle: both images as base64 PNGs and the answer.
type rendered struct {
	background, piece string
	x, y              int
}

// rgb is a colour with channels in [0, 255].
type rgb [3]float32

var white = rgb{255, 255, 255}

// Noise of the drawing: the picture's grain, and the grain painted into
// every hole's inside, as strong, so that the inside's statistics are the
// picture's.
const (
	noiseAmplitude = 6 // ± per channel over the whole picture
	holeNoise      = 6 // ± per channel of a hole's new inside
)

// render draws a puzzle of w×h pixels with a p-pixel piece. It draws from
// a ChaCha8 generator seeded from crypto/rand: the answer must not be
// predictable from earlier puzzles, and one generator per puzzle needs no
// lock.
//
// The picture is drawn against the cheap bots of issue 10, which see the
// two images and y:
//
//   - The row of the hole holds two to four decoy holes of the very same
//     shape, drawn by the same code, so that finding "a hole" on the row
//     (by brightness, by its outline, by column statistics) is not finding
//     the hole; y is in the response, so decoys on other rows would cost a
//     bot nothing.
//   - Every hole's inside is repainted: the mean colour of its place,
//     shaded, under fresh noise. The piece is the picture as it was there,
//     re-tinted, so matching the piece against the holes (pixels,
//     gradients, blurred) finds nothing; a person matches it with what
//     goes on around the hole, the hills and colours that run through it.
//   - The hole's shading and outline strength are drawn for each hole, and
//     the true hole is never the most marked one: a bot that takes the
//     darkest or the most outlined place takes a decoy.
func render(w, h, p int) (rendered, error) {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return rendered{}, err
	}
	return renderSeeded(seed, w, h, p)
}

// renderSeeded is render from a given seed, so that the bot tests can draw
// the same 200 puzzles on every run.
func renderSeeded(seed [32]byte, w, h, p int) (rendered, error) {
	rng := rand.New(rand.NewChaCha8(seed))

	lo, hi := xRange(w, p)
	x := lo + rng.IntN(hi-lo+1)
	y := 4 + rng.IntN(h-p-8+1)

	bg := image.NewRGBA(image.Rect(0, 0, w, h))
	paintScene(bg, rng)
	addNoise(bg, rng, bg.Bounds(), noiseAmplitude)

	sh := newShape(rng, p)
	field := sh.field()
	piece := cutPiece(bg, rng, field, p, x, y)
	holes := placeHoles(rng, x, lo, hi, p)
	looks := holeLooks(rng, len(holes))
	for i, hx := range holes {
		cutHole(bg, rng, field, p, hx, y, looks[i])
	}

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

// paintScene paints a random landscape: a tilted two-colour gradient, a
// soft glow, two to four wavy hills and some bokeh circles, in colours
// drawn around one random hue, so that no two puzzles look alike.
func paintScene(img *image.RGBA, rng *rand.Rand) {
	hue := rng.Float32() * 360
	sky1 := hsv(hue, 0.25+0.3*rng.Float32(), 0.92+0.08*rng.Float32())
	sky2 := hsv(hue+20+60*rng.Float32(), 0.45+0.35*rng.Float32(), 0.6+0.25*rng.Float32())
	paintGradient(img, sky1, sky2, rng.Float64()*2*math.Pi)

	w, h := float32(img.Rect.Dx()), float32(img.Rect.Dy())
	glow := hsv(hue+180*rng.Float32(), 0.15, 1)
	paintDisc(img, w*rng.Float32(), h*0.4*rng.Float32(), 25+35*rng.Float32(), glow, 0.55, 1)

	hills := 2 + rng.IntN(3)
	for i := range hills {
		base := h * (0.38 + 0.5*float32(i)/float32(hills) + 0.08*rng.Float32())
		shift := []float32{-40, 30, 150, 200}[rng.IntN(4)]
		c := hsv(hue+shift+20*rng.Float32(), 0.35+0.4*rng.Float32(), 0.85-0.45*float32(i)/float32(hills))
		paintHill(img, rng, base, 4+h*0.12*rng.Float32(), c, 0.65+0.3*rng.Float32())
	}

	for range 6 + rng.IntN(10) {
		c := hsv(hue+120*rng.Float32()-60, 0.1+0.3*rng.Float32(), 1)
		r := 3 + 20*rng.Float32()
		paintDisc(img, w*rng.Float32(), h*rng.Float32(), r, c, 0.12+0.25*rng.Float32(), 0.4)
	}
}

// paintGradient fills img with a linear gradient from c1 to c2 along the
// direction angle.
func paintGradient(img *image.RGBA, c1, c2 rgb, angle float64) {
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

// paintHill blends c, at opacity alpha, below a wavy line around base made
// of two sine waves, anti-aliased along the line.
func paintHill(img *image.RGBA, rng *rand.Rand, base, amp float32, c rgb, alpha float32) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	f1 := (0.5 + 2*rng.Float64()) * 2 * math.Pi / float64(w)
	f2 := (2 + 4*rng.Float64()) * 2 * math.Pi / float64(w)
	p1, p2 := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
	a8 := int32(alpha*256 + 0.5)
	ci := [3]int32{int32(c[0]), int32(c[1]), int32(c[2])}
	for x := range w {
		top := base + amp*float32(math.Sin(f1*float64(x)+p1)+0.35*math.Sin(f2*float64(x)+p2))
		y := max(0, int(top))
		// The line itself is anti-aliased; below it, the opacity is the
		// same on every pixel, blended in integers.
		for ; y < h && y < int(top)+2; y++ {
			blend(img, x, y, c, alpha*clamp01(float32(y)+0.5-top+0.5))
		}
		for ; y < h; y++ {
			i := img.PixOffset(x, y)
			px := img.Pix[i : i+3 : i+3]
			for ch := range 3 {
				v := int32(px[ch])
				px[ch] = uint8(v + ((ci[ch]-v)*a8+128)>>8)
			}
		}
	}
}

// paintDisc blends a disc of colour c at opacity alpha, flat inside and
// fading to nothing over the outer soft×r of its radius.
func paintDisc(img *image.RGBA, cx, cy, r float32, c rgb, alpha, soft float32) {
	b := image.Rect(int(cx-r)-1, int(cy-r)-1, int(cx+r)+2, int(cy+r)+2).Intersect(img.Rect)
	edge := max(1.5, soft*r)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			d := hypot32(float32(x)+0.5-cx, float32(y)+0.5-cy)
			if a := alpha * clamp01((r-d)/edge); a > 0 {
				blend(img, x, y, c, a)
			}
		}
	}
}

// maxDecoys is how many decoy holes render tries to place beside the
// true one on its row; the answer range holds at most four more p-wide
// holes.
const maxDecoys = 4

// placeHoles returns the left edges of the holes on the row: the true one
// (x, first) and up to maxDecoys decoys in [lo, hi] that overlap neither
// it nor each other, in random places.
func placeHoles(rng *rand.Rand, x, lo, hi, p int) []int {
	holes := []int{x}
	for range 24 {
		if len(holes) > maxDecoys {
			break
		}
		dx := lo + rng.IntN(hi-lo+1)
		if !overlaps(dx, holes, p+2) {
			holes = append(holes, dx)
		}
	}
	return holes
}

// overlaps reports whether a p-wide column at x overlaps one at any of xs.
func overlaps(x int, xs []int, p int) bool {
	for _, o := range xs {
		if x > o-p && x < o+p {
			return true
		}
	}
	return false
}

// look is how one hole is drawn: keep is the share of light its inside
// keeps, line the opacity of its outline.
type look struct{ keep, line float32 }

// holeLooks draws the looks of n holes, the true one first. Each hole
// stands out by a random amount (darker and more outlined together, with
// a little independent play), and the true hole is never the one that
// stands out most: a bot that takes the darkest or the most outlined place
// on the row takes a decoy. Its rank among the others is uniform, so that
// a bot that knows this and ranks the holes still has one chance in n-1.
func holeLooks(rng *rand.Rand, n int) []look {
	ts := make([]float32, n)
	for i := range ts {
		ts[i] = rng.Float32()
	}
	slices.Sort(ts)
	slices.Reverse(ts) // most marked first
	if n > 1 {
		r := 1 + rng.IntN(n-1)
		ts[0], ts[r] = ts[r], ts[0]
	}
	ls := make([]look, n)
	for i, t := range ts {
		ls[i] = look{keep: 0.82 - 0.30*t + 0.03*rng.Float32(), line: 0.30 + 0.55*t + 0.05*rng.Float32()}
	}
	return ls
}

// cutPiece copies the piece at (ox, oy) out of img before any hole is
// drawn, re-tinted by a random gain per channel so that its colours are
// the picture's to a person but not to a pixel comparison, and a white
// glow just outside the outline, so that the piece stands out on any
// picture; transparent elsewhere. Nothing is drawn inside the outline but
// the picture: a stroke there would line up with the hole's outline, and
// template matching would find the hole by it.
func cutPiece(img *image.RGBA, rng *rand.Rand, field []float32, p, ox, oy int) *image.NRGBA {
	piece := image.NewNRGBA(image.Rect(0, 0, p, p))
	base := 0.85 + 0.3*rng.Float32()
	var gain rgb
	for ch := range gain {
		gain[ch] = base * (0.92 + 0.16*rng.Float32())
	}
	for y := range p {
		for x := range p {
			d := field[y*p+x]
			cover := clamp01(0.5 - d)
			halo := 0.85 * clamp01(1-abs32(d-1)/1.2)
			a := cover + halo*(1-cover)
			if a <= 0 {
				continue
			}
			i := img.PixOffset(ox+x, oy+y)
			var in rgb
			for ch := range in {
				in[ch] = min(255, float32(img.Pix[i+ch])*gain[ch])
			}
			var out rgb
			for ch := range 3 {
				// Premultiplied sum over the total alpha; the halo is white.
				out[ch] = (in[ch]*cover + 255*halo*(1-cover)) / a
			}
			piece.SetNRGBA(x, y, color.NRGBA{uint8(out[0]), uint8(out[1]), uint8(out[2]), uint8(255*a + 0.5)})
		}
	}
	return piece
}

// cutHole draws a hole of the piece's shape at (ox, oy) in img: its inside
// repainted flat in the mean colour of the place times lk.keep, under fresh
// noise as strong as the picture's, and ringed just outside its outline
// in white at opacity lk.line. What was there before does not show
// through, and nothing of the hole lines up with the piece's own stroke
// (which is inside the piece's outline), so the piece correlates with no
// hole.
func cutHole(img *image.RGBA, rng *rand.Rand, field []float32, p, ox, oy int, lk look) {
	var sum rgb
	var n float32
	for y := range p {
		for x := range p {
			if field[y*p+x] < 0 {
				i := img.PixOffset(ox+x, oy+y)
				for ch := range sum {
					sum[ch] += float32(img.Pix[i+ch])
				}
				n++
			}
		}
	}
	// A tint of its own per hole, so that the inside's colour does not
	// tell which place the (re-tinted) piece came from; scaled back to the
	// mean's brightness, which lk.keep alone sets.
	var tinted rgb
	for ch := range sum {
		sum[ch] /= max(n, 1)
		tinted[ch] = sum[ch] * (0.88 + 0.24*rng.Float32())
	}
	if l := luma(tinted); l > 0 {
		k := luma(sum) / l
		for ch := range sum {
			sum[ch] = tinted[ch] * k
		}
	}
	span := uint64(2*holeNoise + 1)
	for y := range p {
		for x := range p {
			d := field[y*p+x]
			cover := clamp01(0.5 - d)
			if cover <= 0 && d > 3 {
				continue
			}
			i := img.PixOffset(ox+x, oy+y)
			keep := lk.keep
			bits := rng.Uint64()
			var out rgb
			for ch := range out {
				noise := float32(int((bits>>(16*ch))&0xffff%span) - holeNoise)
				fill := sum[ch]*keep + noise
				v := float32(img.Pix[i+ch])
				out[ch] = v + (fill-v)*cover
			}
			out = mix(out, white, lk.line*ringStroke(d))
			for ch := range out {
				img.Pix[i+ch] = uint8(min(max(out[ch], 0), 255))
			}
		}
	}
}

// luma is the brightness of c (Rec. 601 weights).
func luma(c rgb) float32 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }

// ringStroke is the opacity of a hole's outline at signed distance d: a
// line about 1.6 px wide just outside the outline.
func ringStroke(d float32) float32 { return clamp01(1 - abs32(d-1.2)/0.9) }

// addNoise adds noise of about ±amp (a triangle of two uniform draws,
// which looks like film grain) to each colour channel of the pixels of
// img in r. It is the costliest step after encoding, so it draws its
// numbers from a xorshift generator seeded by rng, eight bytes a step,
// rather than one ChaCha8 draw per pixel: the grain only has to look
// random, the answer is drawn from rng itself.
func addNoise(img *image.RGBA, rng *rand.Rand, r image.Rectangle, amp int) {
	var table [256]int16 // a random byte -> a noise value
	for i := range table {
		table[i] = int16((i&15)*(amp+1)/16 + (i>>4)*(amp+1)/16 - amp)
	}
	s := rng.Uint64() | 1
	var bits uint64
	left := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y) : img.PixOffset(r.Max.X-1, y)+4]
		for i := 0; i+3 < len(row); i += 4 {
			for ch := range 3 {
				if left == 0 {
					s ^= s << 13
					s ^= s >> 7
					s ^= s << 17
					bits, left = s, 8
				}
				v := int16(row[i+ch]) + table[bits&0xff]
				bits >>= 8
				left--
				row[i+ch] = uint8(min(max(v, 0), 255))
			}
		}
	}
}

// blend mixes c into the pixel (x, y) of img at opacity a.
func blend(img *image.RGBA, x, y int, c rgb, a float32) {
	i := img.PixOffset(x, y)
	for ch := range 3 {
		v := float32(img.Pix[i+ch])
		img.Pix[i+ch] = uint8(v + (c[ch]-v)*a + 0.5)
	}
}

// mix returns a + (b-a)·t.
func mix(a, b rgb, t float32) rgb {
	for ch := range 3 {
		a[ch] += (b[ch] - a[ch]) * t
	}
	return a
}

// hsv returns the colour of hue h (degrees, any value), saturation s and
// value v (both in [0, 1]).
func hsv(h, s, v float32) rgb {
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
	return rgb{255 * (r + m), 255 * (g + m), 255 * (b + m)}
}
