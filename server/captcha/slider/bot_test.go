package slider

// Bots against the slider: the cheap solvers of issue 10, each a few dozen
// lines of the Go standard library that see only what GET
// /api/v2/sdk/captcha answers (the two base64 PNGs and y) and return the x
// they would slide to. TestBots runs each on 200 puzzles of today's
// renderer and of the one before issue 10 and prints the solve rates
// beside the random-guess rate; the new renderer must keep every bot at or
// under 10%.

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"math"
	"testing"
)

// botPuzzles is how many puzzles each bot tries; botMaxRate is the share it
// may solve on today's renderer.
const (
	botPuzzles = 200
	botMaxRate = 0.10
)

// plane is one channel of an image as float64s, row by row.
type plane struct {
	w, h int
	v    []float64
}

func (p plane) at(x, y int) float64 { return p.v[y*p.w+x] }

// botView is what a bot sees: the background's and the piece's grey
// levels, the piece's mask (alpha ≥ 0.9) and y.
type botView struct {
	bg, piece plane
	mask      []bool
	y, p      int
	// bgRGB and pieceRGB are the colour channels, for the colour bot.
	bgRGB, pieceRGB [3]plane
}

// see decodes what the API answered, as a bot would.
func see(bgB64, pieceB64 string, y int) (botView, bool) {
	bg, ok1 := decodeGrey(bgB64)
	pc, ok2 := decodeGrey(pieceB64)
	if !ok1 || !ok2 {
		return botView{}, false
	}
	return botView{bg: bg.grey, piece: pc.grey, mask: pc.mask, y: y, p: pc.grey.w, bgRGB: bg.rgb, pieceRGB: pc.rgb}, true
}

type decoded struct {
	grey plane
	rgb  [3]plane
	mask []bool
}

func decodeGrey(s string) (decoded, bool) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return decoded{}, false
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return decoded{}, false
	}
	b := img.Bounds()
	d := decoded{grey: plane{w: b.Dx(), h: b.Dy(), v: make([]float64, b.Dx()*b.Dy())}, mask: make([]bool, b.Dx()*b.Dy())}
	for ch := range d.rgb {
		d.rgb[ch] = plane{w: b.Dx(), h: b.Dy(), v: make([]float64, b.Dx()*b.Dy())}
	}
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := y*b.Dx() + x
			if a > 0 {
				// Un-premultiply: the piece's edge pixels are translucent.
				r, g, bl = r*0xffff/a, g*0xffff/a, bl*0xffff/a
			}
			d.grey.v[i] = (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			d.rgb[0].v[i], d.rgb[1].v[i], d.rgb[2].v[i] = float64(r)/257, float64(g)/257, float64(bl)/257
			d.mask[i] = a >= 58982 // 90%
		}
	}
	return d, true
}

// candidates is the range of x a bot tries: where the hole can be, which
// the source code (public) tells.
func (v botView) candidates() (lo, hi int) { return xRange(v.bg.w, v.p) }

// argmax returns the x in [lo, hi] with the highest score.
func argmax(lo, hi int, score func(x int) float64) int {
	best, bx := math.Inf(-1), lo
	for x := lo; x <= hi; x++ {
		if s := score(x); s > best {
			best, bx = s, x
		}
	}
	return bx
}

// ncc is the normalised cross-correlation of the piece's masked pixels
// with the background's under the mask at x.
func ncc(bg, pc plane, mask []bool, p, x, y int) float64 {
	var sa, sb, saa, sbb, sab, n float64
	for j := range p {
		if y+j >= bg.h {
			break
		}
		for i := range p {
			if !mask[j*p+i] {
				continue
			}
			a, b := pc.at(i, j), bg.at(x+i, y+j)
			sa, sb, saa, sbb, sab, n = sa+a, sb+b, saa+a*a, sbb+b*b, sab+a*b, n+1
		}
	}
	if n == 0 {
		return 0
	}
	cov := sab/n - sa/n*sb/n
	va, vb := saa/n-sa/n*sa/n, sbb/n-sb/n*sb/n
	if va <= 0 || vb <= 0 {
		return 0
	}
	return cov / math.Sqrt(va*vb)
}

// botNCC is attack (a): template matching of the piece along the row.
func botNCC(v botView) int {
	lo, hi := v.candidates()
	return argmax(lo, hi, func(x int) float64 { return ncc(v.bg, v.piece, v.mask, v.p, x, v.y) })
}

// gradient returns |∂x| + |∂y| of p (forward differences).
func gradient(p plane) plane {
	out := plane{w: p.w, h: p.h, v: make([]float64, len(p.v))}
	for y := range p.h - 1 {
		for x := range p.w - 1 {
			out.v[y*p.w+x] = math.Abs(p.at(x+1, y)-p.at(x, y)) + math.Abs(p.at(x, y+1)-p.at(x, y))
		}
	}
	return out
}

// blur returns p under a 5×5 box blur, twice.
func blur(p plane) plane {
	for range 2 {
		out := plane{w: p.w, h: p.h, v: make([]float64, len(p.v))}
		for y := range p.h {
			for x := range p.w {
				var s, n float64
				for yy := max(0, y-2); yy <= min(p.h-1, y+2); yy++ {
					for xx := max(0, x-2); xx <= min(p.w-1, x+2); xx++ {
						s, n = s+p.at(xx, yy), n+1
					}
				}
				out.v[y*p.w+x] = s / n
			}
		}
		p = out
	}
	return p
}

// erode shrinks a mask by k pixels, so that a transformed image's edge
// (where the piece meets its transparency) does not count.
func erode(mask []bool, p, k int) []bool {
	out := make([]bool, len(mask))
	for y := range p {
		for x := range p {
			in := true
			for dy := -k; dy <= k && in; dy++ {
				for dx := -k; dx <= k && in; dx++ {
					xx, yy := x+dx, y+dy
					in = xx >= 0 && yy >= 0 && xx < p && yy < p && mask[yy*p+xx]
				}
			}
			out[y*p+x] = in
		}
	}
	return out
}

// botGradientNCC is the next attack after (a): the same matching on
// gradient magnitudes, which ignore a change of brightness or tint.
func botGradientNCC(v botView) int {
	bg, pc := gradient(v.bg), gradient(v.piece)
	m := erode(v.mask, v.p, 2)
	lo, hi := v.candidates()
	return argmax(lo, hi, func(x int) float64 { return ncc(bg, pc, m, v.p, x, v.y) })
}

// botBlurNCC is the other next attack: matching on blurred copies, which
// ignore added noise.
func botBlurNCC(v botView) int {
	bg, pc := blur(v.bg), blur(v.piece)
	m := erode(v.mask, v.p, 3)
	lo, hi := v.candidates()
	return argmax(lo, hi, func(x int) float64 { return ncc(bg, pc, m, v.p, x, v.y) })
}

// ring returns the pixels of the p×p square within k pixels outside the
// mask.
func ring(mask []bool, p, k int) []bool {
	out := make([]bool, len(mask))
	for y := range p {
		for x := range p {
			if mask[y*p+x] {
				continue
			}
			for dy := -k; dy <= k && !out[y*p+x]; dy++ {
				for dx := -k; dx <= k; dx++ {
					xx, yy := x+dx, y+dy
					if xx >= 0 && yy >= 0 && xx < p && yy < p && mask[yy*p+xx] {
						out[y*p+x] = true
						break
					}
				}
			}
		}
	}
	return out
}

// meanUnder is the mean of bg under m placed at (x, y).
func meanUnder(bg plane, m []bool, p, x, y int) float64 {
	var s, n float64
	for j := range p {
		if y+j >= bg.h {
			break
		}
		for i := range p {
			if m[j*p+i] {
				s, n = s+bg.at(x+i, y+j), n+1
			}
		}
	}
	return s / max(n, 1)
}

// botBrightness is attack (b): the hole is darker than its surroundings,
// so the x where the mean under the mask is least against the ring around
// it wins.
func botBrightness(v botView) int {
	in, out := erode(v.mask, v.p, 1), ring(v.mask, v.p, 3)
	lo, hi := v.candidates()
	return argmax(lo, hi, func(x int) float64 {
		return -meanUnder(v.bg, in, v.p, x, v.y) / (meanUnder(v.bg, out, v.p, x, v.y) + 1)
	})
}

// botEdge is attack (c): the hole's outline is an edge all along the
// piece's border, so the x where the grey step across the mask's border
// is largest wins.
func botEdge(v botView) int {
	lo, hi := v.candidates()
	return argmax(lo, hi, edgeScore(v, borderPairs(v)))
}

// edgeScore returns the score of botEdge at x for the border pairs.
func edgeScore(v botView, pairs []pair) func(x int) float64 {
	p := v.p
	return func(x int) float64 {
		var s float64
		for _, pr := range pairs {
			iy, ix := pr.in/p, pr.in%p
			oy, ox := pr.out/p, pr.out%p
			if v.y+iy >= v.bg.h || v.y+oy >= v.bg.h {
				continue
			}
			s += math.Abs(v.bg.at(x+ix, v.y+iy) - v.bg.at(x+ox, v.y+oy))
		}
		return s
	}
}

// borderPairs are the pairs (inside, 2 px outside) across the mask's
// border, as offsets in the piece.
func borderPairs(v botView) []pair {
	var pairs []pair
	p := v.p
	for y := range p {
		for x := range p {
			if !v.mask[y*p+x] {
				continue
			}
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				xx, yy := x+2*d[0], y+2*d[1]
				if xx >= 0 && yy >= 0 && xx < p && yy < p && !v.mask[yy*p+xx] {
					pairs = append(pairs, pair{y*p + x, yy*p + xx})
				}
			}
		}
	}
	return pairs
}

type pair struct{ in, out int }

// botMiddleHole is the attack of a bot that has read render.go: find the
// holes on the row (the peaks of botEdge's score, a piece apart), and take
// the one in the middle of them by score, as the true hole is never the
// most or the least marked.
func botMiddleHole(v botView) int {
	lo, hi := v.candidates()
	score := edgeScore(v, borderPairs(v))
	s := make([]float64, hi-lo+1)
	for x := lo; x <= hi; x++ {
		s[x-lo] = score(x)
	}
	var peaks []int
	for len(peaks) < 1+maxDecoys {
		best := -1
		for i := range s {
			if !overlaps(lo+i, peaks, v.p) && (best < 0 || s[i] > s[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		peaks = append(peaks, lo+best)
	}
	// The peaks are in falling order of score; keep those that look like
	// holes (at least half the best), and take the middle one.
	n := 1
	for n < len(peaks) && s[peaks[n]-lo] >= s[peaks[0]-lo]/2 {
		n++
	}
	return peaks[n/2]
}

// botColumns is attack (d), with no template: in the band of rows of the
// piece, the columns where the horizontal grey step is largest are the
// hole's left and right sides, a body's width apart (the body leaves 17%
// of the square on each side, which the source code tells).
func botColumns(v botView) int {
	p := v.p
	col := make([]float64, v.bg.w)
	for x := range v.bg.w - 1 {
		for y := v.y + p/4; y < min(v.y+3*p/4, v.bg.h); y++ {
			col[x] += math.Abs(v.bg.at(x+1, y) - v.bg.at(x, y))
		}
	}
	m := int(float64(p)*0.17 + 0.5)
	lo, hi := v.candidates()
	return argmax(lo, hi, func(x int) float64 {
		l, r := x+m-1, x+p-m-1
		best := func(c int) float64 { // the side may be a pixel off
			return max(col[max(c-1, 0)], col[c], col[min(c+1, len(col)-1)])
		}
		return best(l) + best(r)
	})
}

// botRing is the attack after the others on a puzzle whose hole does not
// show what the piece does: the piece's own rim continues the picture
// just outside the hole, so match the piece's outermost opaque pixels
// against the background's pixels just outside the mask (blurred, as the
// rim is drawn over).
func botRing(v botView) int {
	bg, pc := blur(v.bg), blur(v.piece)
	inner := erode(v.mask, v.p, 2)
	rim := make([]bool, len(v.mask))
	for i := range rim {
		rim[i] = v.mask[i] && !inner[i]
	}
	out := ring(v.mask, v.p, 3)
	// Pair each outside pixel with the nearest rim pixel's value: compare
	// the mean grey of the piece's rim, side by side, with the ring's.
	lo, hi := v.candidates()
	return argmax(lo, hi, func(x int) float64 {
		var s float64
		for _, side := range [4][4]int{{0, 0, v.p / 2, v.p}, {v.p / 2, 0, v.p, v.p}, {0, 0, v.p, v.p / 2}, {0, v.p / 2, v.p, v.p}} {
			var a, b, na, nb float64
			for j := side[1]; j < side[3]; j++ {
				for i := side[0]; i < side[2]; i++ {
					if rim[j*v.p+i] {
						a, na = a+pc.at(i, j), na+1
					}
					if out[j*v.p+i] && v.y+j < bg.h {
						b, nb = b+bg.at(x+i, v.y+j), nb+1
					}
				}
			}
			s -= math.Abs(a/max(na, 1) - b/max(nb, 1))
		}
		return s
	})
}

// botChroma is the attack on the holes' repainted insides: each is the
// mean colour of its place, darker, and the piece is the place re-tinted,
// so compare the chromaticity (r:g:b, which darkening keeps) of the piece
// with that of the background under the mask.
func botChroma(v botView) int {
	m := erode(v.mask, v.p, 2)
	chroma := func(c [3]float64) [2]float64 {
		t := c[0] + c[1] + c[2] + 1
		return [2]float64{c[0] / t, c[1] / t}
	}
	var pc [3]float64
	for ch := range pc {
		pc[ch] = meanUnder(v.pieceRGB[ch], m, v.p, 0, 0)
	}
	want := chroma(pc)
	lo, hi := v.candidates()
	return argmax(lo, hi, func(x int) float64 {
		var c [3]float64
		for ch := range c {
			c[ch] = meanUnder(v.bgRGB[ch], m, v.p, x, v.y)
		}
		got := chroma(c)
		return -math.Hypot(got[0]-want[0], got[1]-want[1])
	})
}

// bots are the attacks, in the order of the issue; primary ones are held
// to botMaxRate, the others are reported.
var bots = []struct {
	name    string
	primary bool
	solve   func(botView) int
}{
	{"a: NCC of the piece under its mask", true, botNCC},
	{"b: brightness ratio under the mask", true, botBrightness},
	{"c: edge step along the hole's outline", true, botEdge},
	{"d: column statistics, no template", true, botColumns},
	{"next: NCC on gradients", false, botGradientNCC},
	{"next: NCC on blurred copies", false, botBlurNCC},
	{"next: piece rim against the ring outside", false, botRing},
	{"next: the middle one of the row's holes", false, botMiddleHole},
	{"next: chromaticity under the mask", false, botChroma},
}

// TestBots runs every bot on botPuzzles puzzles of the renderer of before
// issue 10 (for the record) and of today's, and holds today's to
// botMaxRate.
func TestBots(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: 2×200 puzzles for 7 bots")
	}
	lo, hi := xRange(DefaultWidth, DefaultPieceSize)
	guess := (2*DefaultTolerance + 1) / float64(hi-lo+1)
	drawn := 0
	for _, r := range []struct {
		name   string
		render func(w, h, p int) (rendered, error)
		check  bool
	}{
		{"before issue 10", oldRender, false},
		// Today's puzzles come from fixed seeds, so that a rate near the
		// limit does not make the test flaky: the same 200 every run.
		{"today", func(w, h, p int) (rendered, error) {
			var seed [32]byte
			seed[0], seed[1] = byte(drawn), byte(drawn>>8)
			drawn++
			return renderSeeded(seed, w, h, p)
		}, true},
	} {
		views := make([]botView, botPuzzles)
		answers := make([]int, botPuzzles)
		for i := range views {
			pz, err := r.render(DefaultWidth, DefaultHeight, DefaultPieceSize)
			if err != nil {
				t.Fatal(err)
			}
			v, ok := see(pz.background, pz.piece, pz.y)
			if !ok {
				t.Fatal("a puzzle's PNGs do not decode")
			}
			views[i], answers[i] = v, pz.x
		}
		for _, b := range bots {
			solved := 0
			for i, v := range views {
				if math.Abs(float64(b.solve(v)-answers[i])) <= DefaultTolerance {
					solved++
				}
			}
			rate := float64(solved) / botPuzzles
			t.Logf("%-16s %-42s solves %3d/%d = %5.1f%% (random guess %.1f%%)",
				r.name, b.name, solved, botPuzzles, 100*rate, 100*guess)
			if r.check && b.primary && rate > botMaxRate {
				t.Errorf("%s solves %.1f%% of today's puzzles, over %.0f%%", b.name, 100*rate, 100*botMaxRate)
			}
		}
	}
}
