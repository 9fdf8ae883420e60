package jsonlog_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/smscode/smscode/server/jsonlog"
)

// masked is a LogValuer, as phone.Number is.
type masked string

func (m masked) LogValue() slog.Value { return slog.StringValue("+86 138****" + string(m)) }

var when = time.Date(2026, 12, 2, 3, 4, 5, 678901200, time.UTC)

// records are lines the server logs and the corner cases of each kind.
var records = []struct {
	name  string
	level slog.Level
	msg   string
	time  time.Time
	attrs []slog.Attr
}{
	{"access log", slog.LevelInfo, "request", when, []slog.Attr{
		slog.String("request_id", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"), slog.String("method", "POST"),
		slog.String("path", "/api/v2/sdk/sms/send"), slog.Int("status", 200), slog.Float64("latency_ms", 0.187),
	}},
	{"access log, error", slog.LevelInfo, "request", when, []slog.Attr{
		slog.String("request_id", "x"), slog.Int("status", 400), slog.Float64("latency_ms", 12),
		slog.String("error_code", "USER.0038"),
	}},
	{"sms sent", slog.LevelInfo, "sms sent", when, []slog.Attr{
		slog.String("request_id", "r"), slog.String("client_id", "demo"), {Key: "mobile", Value: masked("5678").LogValue()},
		slog.Any("mobile2", masked("1234")), slog.String("provider", "null"),
	}},
	{"no attributes", slog.LevelWarn, "drained", when, nil},
	{"no time", slog.LevelError, "boom", time.Time{}, []slog.Attr{slog.Int("n", -3)}},
	{"odd levels", slog.LevelDebug - 3, "m", when, nil},
	{"level above error", slog.LevelError + 2, "m", when, nil},
	{"local time", slog.LevelInfo, "m", when.In(time.FixedZone("X", 5*3600+1800)), nil},
	{"monotonic time", slog.LevelInfo, "m", time.Now(), nil},
	{"year 10000", slog.LevelInfo, "m", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), nil},
	{"escapes", slog.LevelInfo, "a\"b\\c\nd\re\tf\x00g\x1fh<i>&j\u2028k\u2029l\xffm\xc3", when, []slog.Attr{
		slog.String("k\"ey\n", "v\x7f\u00e9\U0001F600\xed\xa0\x80"),
	}},
	{"kinds", slog.LevelInfo, "m", when, []slog.Attr{
		slog.Int64("i", math.MinInt64), slog.Uint64("u", math.MaxUint64), slog.Bool("t", true), slog.Bool("f", false),
		slog.Duration("d", 1500*time.Millisecond), slog.Time("at", when), slog.Time("zero", time.Time{}),
	}},
	{"floats", slog.LevelInfo, "m", when, []slog.Attr{
		slog.Float64("zero", 0), slog.Float64("negzero", math.Copysign(0, -1)), slog.Float64("small", 1e-6),
		slog.Float64("big", 1e21-1e6), slog.Float64("third", 1.0/3), slog.Float64("neg", -2.5),
	}},
	{"float exponent small", slog.LevelInfo, "m", when, []slog.Attr{slog.Float64("f", 1e-7)}},
	{"float exponent big", slog.LevelInfo, "m", when, []slog.Attr{slog.Float64("f", 1e21)}},
	{"NaN", slog.LevelInfo, "m", when, []slog.Attr{slog.Float64("f", math.NaN())}},
	{"infinity", slog.LevelInfo, "m", when, []slog.Attr{slog.Float64("f", math.Inf(-1))}},
	{"any", slog.LevelInfo, "m", when, []slog.Attr{slog.String("a", "1"), slog.Any("err", errors.New("e")), slog.Any("m", map[string]int{"x": 1})}},
	{"group", slog.LevelInfo, "m", when, []slog.Attr{slog.Group("g", slog.String("a", "1")), slog.Group("empty")}},
	{"empty key", slog.LevelInfo, "m", when, []slog.Attr{{}, slog.String("", "v"), slog.String("b", "")}},
	{"nil any", slog.LevelInfo, "m", when, []slog.Attr{slog.Any("n", nil)}},
}

// TestSameAsJSONHandler checks that every record is written as
// slog.JSONHandler writes it, derived handlers included.
func TestSameAsJSONHandler(t *testing.T) {
	derive := map[string]func(slog.Handler) slog.Handler{
		"plain":     func(h slog.Handler) slog.Handler { return h },
		"WithAttrs": func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.String("app", "x")}) },
		"WithGroup": func(h slog.Handler) slog.Handler { return h.WithGroup("g") },
	}
	opts := map[string]*slog.HandlerOptions{
		"nil":         nil,
		"debug":       {Level: slog.LevelDebug},
		"AddSource":   {AddSource: true},
		"ReplaceAttr": {ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { a.Key += "_"; return a }},
	}
	for dn, d := range derive {
		for on, o := range opts {
			for _, rec := range records {
				var got, want bytes.Buffer
				ours, std := d(jsonlog.New(&got, o)), d(slog.NewJSONHandler(&want, o))
				for _, l := range []slog.Level{slog.LevelDebug, rec.level, slog.LevelInfo} {
					if g, w := ours.Enabled(context.Background(), l), std.Enabled(context.Background(), l); g != w {
						t.Errorf("%s, %s: Enabled(%v) = %v, JSONHandler %v", dn, on, l, g, w)
					}
				}
				for _, h := range []slog.Handler{ours, std} {
					r := slog.NewRecord(rec.time, rec.level, rec.msg, 0)
					r.AddAttrs(rec.attrs...)
					if err := h.Handle(context.Background(), r); err != nil {
						t.Fatalf("%s, %s, %s: %v", dn, on, rec.name, err)
					}
				}
				if got.String() != want.String() {
					t.Errorf("%s, %s, %s:\n got %q\nwant %q", dn, on, rec.name, got.String(), want.String())
				}
			}
		}
	}
}

// FuzzSameAsJSONHandler compares the two on any message, key and values.
func FuzzSameAsJSONHandler(f *testing.F) {
	f.Add("request", "request_id", "ABC", int64(200), 0.187)
	f.Add("a\"\\\n\x00\u2028\xff", "k\x1f", "\xed\xa0\x80é", int64(-1), 1e-7)
	f.Add("", "", "", int64(0), math.Inf(1))
	f.Fuzz(func(t *testing.T, msg, key, s string, i int64, fl float64) {
		var got, want bytes.Buffer
		for _, h := range []slog.Handler{jsonlog.New(&got, nil), slog.NewJSONHandler(&want, nil)} {
			r := slog.NewRecord(when, slog.LevelInfo, msg, 0)
			r.AddAttrs(slog.String(key, s), slog.Int64("i", i), slog.Float64("f", fl), slog.String("s", key+s))
			_ = h.Handle(context.Background(), r)
		}
		if got.String() != want.String() {
			t.Errorf("\n got %q\nwant %q", got.String(), want.String())
		}
	})
}

// The access log's line through each handler, through a Logger as the
// server logs it.
func BenchmarkAccessLogLine(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"JSONHandler", slog.NewJSONHandler(io.Discard, nil)},
		{"jsonlog", jsonlog.New(io.Discard, nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			log := slog.New(bc.h)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(ctx, slog.LevelInfo, "request", records[0].attrs...)
			}
		})
	}
}
