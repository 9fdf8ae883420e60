package slider

import (
	"math"
	"math/rand/v2"
)

// circle is a knob added to or bitten out of a piece, in piece pixels.
type circle struct{ cx, cy, r float32 }

// shape is a jigsaw piece inside a size×size square: a square body with
// slightly rounded corners, one or two round knobs (tabs) standing out of
// it, and at most one round bite (blank) taken out of another side.
type shape struct {
	size    int
	x0, y0  float32 // the body's top-left corner
	x1, y1  float32 // the body's bottom-right corner
	tabs    [2]circle
	nTabs   int
	notch   circle
	notched bool
}

// cornerRadius rounds the body's corners a little, as cut cardboard is.
const cornerRadius = 2

// newShape draws a random piece for a size×size image. The body leaves a
// margin of size×0.17 on every side, which is just room for a knob of
// radius size×0.11 whose centre stands half a radius outside the edge.
func newShape(rng *rand.Rand, size int) shape {
	s := float32(size)
	m := s * 0.17
	r := s * 0.11
	sh := shape{size: size, x0: m, y0: m, x1: s - m, y1: s - m}
	cx, cy := s/2, s/2
	// The four sides' knob centres: top, right, bottom, left.
	out := [4]circle{
		{cx, sh.y0 - r/2, r}, {sh.x1 + r/2, cy, r},
		{cx, sh.y1 + r/2, r}, {sh.x0 - r/2, cy, r},
	}
	in := [4]circle{
		{cx, sh.y0 + r/2, r}, {sh.x1 - r/2, cy, r},
		{cx, sh.y1 - r/2, r}, {sh.x0 + r/2, cy, r},
	}
	sides := rng.Perm(4)
	sh.nTabs = 1 + rng.IntN(2)
	for i := range sh.nTabs {
		sh.tabs[i] = out[sides[i]]
	}
	if rng.IntN(2) == 0 {
		sh.notch, sh.notched = in[sides[3]], true
	}
	return sh
}

// sd is the signed distance from the point (px, py) to the piece's outline:
// negative inside, positive outside, in pixels.
func (sh *shape) sd(px, py float32) float32 {
	// A rounded box: the body shrunk by the corner radius, then grown back.
	hx := (sh.x1-sh.x0)/2 - cornerRadius
	hy := (sh.y1-sh.y0)/2 - cornerRadius
	qx := abs32(px-(sh.x0+sh.x1)/2) - hx
	qy := abs32(py-(sh.y0+sh.y1)/2) - hy
	d := hypot32(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - cornerRadius
	for _, c := range sh.tabs[:sh.nTabs] {
		d = min(d, hypot32(px-c.cx, py-c.cy)-c.r)
	}
	if sh.notched {
		d = max(d, biteSD(sh.notch, px, py))
	}
	return d
}

// biteSD is the signed distance to the outside of a bite: the negated distance
// to the circle, so that max(d, biteSD) removes the circle from d.
func biteSD(c circle, px, py float32) float32 {
	return c.r - hypot32(px-c.cx, py-c.cy)
}

// field samples sd at every pixel centre of the size×size image, row by
// row, so that the piece and its hole are drawn from the same numbers.
func (sh *shape) field() []float32 {
	f := make([]float32, sh.size*sh.size)
	for y := range sh.size {
		for x := range sh.size {
			f[y*sh.size+x] = sh.sd(float32(x)+0.5, float32(y)+0.5)
		}
	}
	return f
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

func hypot32(x, y float32) float32 { return float32(math.Sqrt(float64(x*x + y*y))) }

// clamp01 limits v to [0, 1].
func clamp01(v float32) float32 { return min(max(v, 0), 1) }
