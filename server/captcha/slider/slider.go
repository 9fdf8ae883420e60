// Package slider is the built-in block-puzzle captcha, the slider that
// Huawei OneAccess (and the open-source AJ-Captcha it follows) puts in front
// of sending an SMS code.
//
// Issue draws a picture with a jigsaw-shaped hole and returns it with the
// cut-out piece and a token; the answer, the hole's x, stays in the store.
// Check takes the slider position the user chose and, when it is within the
// tolerance, returns a captcha_token of the shape
//
//	token + "---" + point_json
//
// bound to the sender's mobile number. The send pipeline then spends that
// token through Verify, which makes *Slider a captcha.Verifier.
//
// Every puzzle and every captcha_token works once: both are taken from the
// store (read and deleted in one step) before they are checked.
package slider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha"
)

// Keeper holds the puzzles' answers and the verified captcha tokens. The
// shared store implements it over memory or Redis; every server instance
// must use the same one, as a puzzle may be issued by one instance and
// checked by another.
type Keeper interface {
	// Put stores value under key for ttl, replacing any value there.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Take returns the value under key and deletes it, in one atomic step,
	// so that two concurrent Takes cannot both get it. It reports false
	// when there is no value (never stored, expired or already taken).
	Take(ctx context.Context, key string) ([]byte, bool, error)
}

// Defaults of Config: AJ-Captcha's picture size and lifetimes, which
// OneAccess's slider follows.
const (
	// DefaultPuzzleTTL is how long a puzzle can be answered.
	DefaultPuzzleTTL = 2 * time.Minute
	// DefaultTokenTTL is how long a verified captcha_token can be spent.
	DefaultTokenTTL = 3 * time.Minute
	// DefaultTolerance is how many pixels the slide may be off.
	DefaultTolerance = 5.0
	// DefaultWidth is the picture's width in pixels.
	DefaultWidth = 310
	// DefaultHeight is the picture's height in pixels.
	DefaultHeight = 155
	// DefaultPieceSize is the side of the square piece image in pixels.
	DefaultPieceSize = 47
	// DefaultPuzzlesPerSecond is the global budget of puzzles drawn per
	// second by one server instance, all clients together: at about 2 ms
	// of CPU each, 50 a second is a tenth of one core at most, whatever a
	// flood from rotating addresses asks for.
	DefaultPuzzlesPerSecond = 50
	// DefaultPuzzleBurst is how many puzzles may be drawn at once above
	// the rate, after a quiet spell.
	DefaultPuzzleBurst = 50
	// DefaultMaxDrawing is how many puzzles may be drawn at the same time.
	DefaultMaxDrawing = 2
)

// expiredGrace is how much longer than its lifetime a record stays in the
// store: a late answer then still finds its record and is told CAPTCHA.0003
// (expired) rather than CAPTCHA.0004 (unknown), which lets a client say
// "too slow, try a new puzzle". One minute covers a user who dawdles; after
// that "unknown" is as good an answer.
const expiredGrace = time.Minute

// maxPointJSON bounds point_json. AJ-Captcha's is about 20 bytes
// ({"x":237.0,"y":5.0}); JavaScript's longest doubles make it about 50.
const maxPointJSON = 128

// Config configures a Slider. Zero values mean the defaults.
type Config struct {
	// PuzzleTTL is how long a puzzle can be answered after it was issued.
	// The default value is DefaultPuzzleTTL (2 minutes).
	PuzzleTTL time.Duration
	// TokenTTL is how long the captcha_token that Check returns can be
	// spent on a send. The default value is DefaultTokenTTL (3 minutes).
	TokenTTL time.Duration
	// Tolerance is how far, in pixels of the picture, the slider may stop
	// from the hole and still pass. The default value is DefaultTolerance
	// (5 px).
	Tolerance float64
	// Width and Height are the picture's size in pixels. The default
	// values are DefaultWidth and DefaultHeight (310×155).
	Width, Height int
	// PieceSize is the side, in pixels, of the square piece image (knobs
	// included). The default value is DefaultPieceSize (47).
	PieceSize int
	// PuzzlesPerSecond is the budget of puzzles that Issue draws per
	// second, all callers together (a token bucket); beyond it Issue
	// answers CAPTCHA.0007 with a Retry-After. The per-IP limit of the send
	// pipeline does not bound a client that rotates its source address;
	// this does. The default value is DefaultPuzzlesPerSecond (50).
	PuzzlesPerSecond float64
	// PuzzleBurst is the bucket's size. The default value is
	// DefaultPuzzleBurst (50).
	PuzzleBurst int
	// MaxDrawing is how many puzzles may be drawn at the same time; a call
	// beyond it is answered CAPTCHA.0007 at once rather than queued, so
	// that a flood never holds more than this many cores. The default
	// value is DefaultMaxDrawing (2).
	MaxDrawing int
	// Now is the clock of the puzzles' and tokens' lifetimes. The default
	// value is time.Now. The budget always runs on time.Now, so that a
	// test clock that stands still does not stop it refilling.
	Now func() time.Time
}

// withDefaults returns cfg with its zero fields set to the defaults, or an
// error when a field is out of range.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.PuzzleTTL == 0 {
		cfg.PuzzleTTL = DefaultPuzzleTTL
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Width == 0 {
		cfg.Width = DefaultWidth
	}
	if cfg.Height == 0 {
		cfg.Height = DefaultHeight
	}
	if cfg.PieceSize == 0 {
		cfg.PieceSize = DefaultPieceSize
	}
	if cfg.PuzzlesPerSecond == 0 {
		cfg.PuzzlesPerSecond = DefaultPuzzlesPerSecond
	}
	if cfg.PuzzleBurst == 0 {
		cfg.PuzzleBurst = DefaultPuzzleBurst
	}
	if cfg.MaxDrawing == 0 {
		cfg.MaxDrawing = DefaultMaxDrawing
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.PuzzlesPerSecond < 0 || math.IsNaN(cfg.PuzzlesPerSecond) || math.IsInf(cfg.PuzzlesPerSecond, 0):
		return cfg, errors.New("slider: PuzzlesPerSecond must be a finite positive number")
	case cfg.PuzzleBurst < 0 || cfg.MaxDrawing < 0:
		return cfg, errors.New("slider: PuzzleBurst and MaxDrawing must not be negative")
	case cfg.PuzzleTTL < 0 || cfg.TokenTTL < 0:
		return cfg, errors.New("slider: PuzzleTTL and TokenTTL must not be negative")
	case cfg.Tolerance < 0 || math.IsNaN(cfg.Tolerance) || math.IsInf(cfg.Tolerance, 0):
		return cfg, errors.New("slider: Tolerance must be a finite number of pixels")
	case cfg.PieceSize < 24 || cfg.PieceSize > 128:
		return cfg, fmt.Errorf("slider: PieceSize %d is outside 24..128", cfg.PieceSize)
	case cfg.Height < cfg.PieceSize+8 || cfg.Height > 1024 || cfg.Width > 2048:
		return cfg, fmt.Errorf("slider: a %dx%d picture cannot hold a %d px piece", cfg.Width, cfg.Height, cfg.PieceSize)
	}
	// The hole must have room to move, or guessing pays: at least eight
	// tolerance windows between the leftmost and the rightmost answer.
	lo, hi := xRange(cfg.Width, cfg.PieceSize)
	if float64(hi-lo) < 8*(2*cfg.Tolerance+1) {
		return cfg, fmt.Errorf("slider: width %d leaves too little room for a %d px piece at tolerance %g",
			cfg.Width, cfg.PieceSize, cfg.Tolerance)
	}
	return cfg, nil
}

// xRange is the range [lo, hi] of the hole's left edge. lo keeps the hole
// clear of where the piece starts (x = 0) and of the left edge, where it
// would be found without sliding; hi keeps the hole inside the picture.
func xRange(width, piece int) (lo, hi int) {
	return piece + piece/2, width - piece - 4
}

// Slider issues and checks block puzzles. It is safe for concurrent use.
type Slider struct {
	cfg    Config
	keep   Keeper
	budget *rate.Limiter
	// drawing holds a token per puzzle being drawn (MaxDrawing).
	drawing chan struct{}
	// draw draws a puzzle; tests that do not look at the pictures swap
	// in a cheaper one.
	draw func(w, h, piece int) (rendered, error)
}

var _ captcha.Verifier = (*Slider)(nil)

// New returns a Slider that keeps its state in k, or an error when cfg is
// out of range or k is nil.
func New(cfg Config, k Keeper) (*Slider, error) {
	if k == nil {
		return nil, errors.New("slider: a Keeper is required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Slider{
		cfg: cfg, keep: k, draw: render,
		budget:  rate.NewLimiter(rate.Limit(cfg.PuzzlesPerSecond), cfg.PuzzleBurst),
		drawing: make(chan struct{}, cfg.MaxDrawing),
	}, nil
}

// Puzzle is a slider challenge as the client receives it. It never holds
// the answer: the piece image is only the piece, and its x is in the store.
type Puzzle struct {
	// Token names the puzzle in Check: 128 random bits in lowercase hex
	// (URL-safe, and free of "-", so that it splits cleanly from the point
	// in a captcha_token).
	Token string
	// Background is the picture with the hole, a base64 (standard
	// alphabet) PNG of Width×Height pixels.
	Background string
	// Piece is the piece cut from the hole, a base64 PNG of PieceSize
	// square pixels, transparent outside the piece.
	Piece string
	// Y is the top of the piece in the picture: the client shows the piece
	// at this height and the user slides it along x.
	Y int
	// Width and Height are the picture's size in pixels.
	Width, Height int
}

// PuzzleKey is the store key of a puzzle's answer.
func PuzzleKey(scope, token string) string {
	return apps.Tag(scope) + ":slider:puzzle:" + token
}

// VerifiedKey is the store key of a verified captcha_token's record.
func VerifiedKey(scope, token string) string {
	return apps.Tag(scope) + ":slider:verified:" + token
}

// Issue draws a new puzzle for the application of scope (see apps.Scope) and
// stores its answer. It fails with CAPTCHA.0007 (and a Retry-After) when
// the global budget of puzzles is spent or MaxDrawing puzzles are being
// drawn, and with SYS.0002 when the store cannot answer.
func (s *Slider) Issue(ctx context.Context, scope string) (Puzzle, error) {
	// A reservation that would have to wait is handed back: a puzzle is
	// drawn now or refused, never queued.
	if r := s.budget.Reserve(); !r.OK() || r.Delay() > 0 {
		wait := r.Delay()
		r.Cancel()
		return Puzzle{}, apierr.Retry(gen.ErrorCodeCaptchaTooMany, wait)
	}
	select {
	case s.drawing <- struct{}{}:
		defer func() { <-s.drawing }()
	default:
		// A puzzle takes about 2 ms: a second is a generous wait.
		return Puzzle{}, apierr.Retry(gen.ErrorCodeCaptchaTooMany, time.Second)
	}
	token, err := newToken()
	if err != nil {
		return Puzzle{}, apierr.Wrap(gen.ErrorCodeInternal, err)
	}
	img, err := s.draw(s.cfg.Width, s.cfg.Height, s.cfg.PieceSize)
	if err != nil {
		return Puzzle{}, apierr.Wrap(gen.ErrorCodeInternal, err)
	}
	rec := puzzleRecord{X: img.x, Y: img.y, Issued: s.cfg.Now().UnixNano()}
	if err := s.keep.Put(ctx, PuzzleKey(scope, token), rec.encode(), s.cfg.PuzzleTTL+expiredGrace); err != nil {
		return Puzzle{}, apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
	}
	return Puzzle{
		Token:      token,
		Background: img.background,
		Piece:      img.piece,
		Y:          img.y,
		Width:      s.cfg.Width,
		Height:     s.cfg.Height,
	}, nil
}

// Check answers the puzzle named by token with pointJSON, the slider
// position such as {"x":237.0,"y":5.0} (y is ignored: the piece moves only
// along x). sender is the mobile number, normalised, that the captcha_token
// will be good for. The puzzle is spent by this call whatever its outcome.
//
// On success it returns the captcha_token, token + "---" + pointJSON with
// pointJSON exactly as sent. Errors: PARAM.0005 empty token, PARAM.0004
// empty pointJSON, PARAM.0001 empty sender, CAPTCHA.0004 unknown or spent
// puzzle, CAPTCHA.0003 puzzle older than PuzzleTTL, CAPTCHA.0002 position
// off by more than the tolerance or malformed, SYS.0002 store failure.
func (s *Slider) Check(ctx context.Context, scope, token, pointJSON, sender string) (string, error) {
	switch {
	case token == "":
		return "", apierr.New(gen.ErrorCodeCaptchaTokenRequired)
	case pointJSON == "":
		return "", apierr.New(gen.ErrorCodeCoordinatesRequired)
	case sender == "":
		return "", apierr.New(gen.ErrorCodeMobileRequired)
	case !validToken(token):
		// Not one of ours: refused before it reaches the store, so that
		// no caller-chosen text ever becomes part of a key.
		return "", apierr.New(gen.ErrorCodeCaptchaInvalid)
	}
	raw, ok, err := s.keep.Take(ctx, PuzzleKey(scope, token))
	if err != nil {
		return "", apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
	}
	if !ok {
		return "", apierr.New(gen.ErrorCodeCaptchaInvalid)
	}
	rec, err := decodePuzzle(raw)
	if err != nil {
		return "", apierr.Wrap(gen.ErrorCodeCaptchaInvalid, err)
	}
	now := s.cfg.Now()
	if now.Sub(rec.issued()) > s.cfg.PuzzleTTL {
		return "", apierr.New(gen.ErrorCodeCaptchaExpired)
	}
	// The point is parsed after the puzzle is taken, so that a malformed
	// answer spends the puzzle like a wrong one: every try costs a puzzle.
	x, err := parsePoint(pointJSON)
	if err != nil {
		return "", apierr.Wrap(gen.ErrorCodeCaptchaWrong, err)
	}
	if math.Abs(x-float64(rec.X)) > s.cfg.Tolerance {
		return "", apierr.New(gen.ErrorCodeCaptchaWrong)
	}
	v := verifiedRecord{Sender: sender, Point: pointJSON, Verified: now.UnixNano()}
	if err := s.keep.Put(ctx, VerifiedKey(scope, token), v.encode(), s.cfg.TokenTTL+expiredGrace); err != nil {
		return "", apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
	}
	return token + tokenSeparator + pointJSON, nil
}

// tokenSeparator joins the puzzle token and the point in a captcha_token,
// as AJ-Captcha does.
const tokenSeparator = "---"

// Verify spends a captcha_token that Check returned, for the send pipeline.
// The token is good once, for the application and the sender it was
// verified for, within TokenTTL. Errors: CAPTCHA.0004 malformed, unknown or
// already spent (or its point differs from the one verified), CAPTCHA.0003
// older than TokenTTL, CAPTCHA.0002 verified for another number, SYS.0002
// store failure.
func (s *Slider) Verify(ctx context.Context, req captcha.Request) error {
	// The puzzle token is lowercase hex, so the first "---" is the
	// separator whatever point_json holds.
	token, point, found := strings.Cut(req.Token, tokenSeparator)
	if !found || !validToken(token) || point == "" {
		return apierr.New(gen.ErrorCodeCaptchaInvalid)
	}
	raw, ok, err := s.keep.Take(ctx, VerifiedKey(apps.Scope(req.ClientID, req.TenantID), token))
	if err != nil {
		return apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
	}
	if !ok {
		return apierr.New(gen.ErrorCodeCaptchaInvalid)
	}
	rec, err := decodeVerified(raw)
	if err != nil {
		return apierr.Wrap(gen.ErrorCodeCaptchaInvalid, err)
	}
	switch {
	case rec.Point != point:
		return apierr.New(gen.ErrorCodeCaptchaInvalid)
	case s.cfg.Now().Sub(rec.verified()) > s.cfg.TokenTTL:
		return apierr.New(gen.ErrorCodeCaptchaExpired)
	case rec.Sender != req.Mobile:
		return apierr.New(gen.ErrorCodeCaptchaWrong)
	}
	return nil
}
