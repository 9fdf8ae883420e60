// Package jsonlog is a slog.Handler that writes what slog.JSONHandler
// writes, byte for byte, at a fraction of its cost for the records the
// server logs on every request (the access log line, "sms sent"): flat
// records of strings, integers, booleans, durations, times and ordinary
// floats.
//
// slog.JSONHandler spends most of its time in general machinery (a handle
// state per record, group and prefix bookkeeping for every attribute, and
// json.Marshal, with its reflection, for every float: the access log's
// latency_ms). This handler appends those kinds directly; any record with
// something else (a group, an Any value, an empty key, a float JSON would
// write in exponent form or refuse) is handed, whole, to a
// slog.JSONHandler on the same writer, as are handlers derived with
// WithAttrs or WithGroup and any options other than Level. So the output
// is JSONHandler's in every case (TestSameAsJSONHandler and
// FuzzSameAsJSONHandler compare them), and only its speed differs.
package jsonlog

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// New returns a handler that writes JSON lines to w as
// slog.NewJSONHandler(w, opts) would. With opts.AddSource or
// opts.ReplaceAttr set it is that JSONHandler.
func New(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	if opts.AddSource || opts.ReplaceAttr != nil {
		return slog.NewJSONHandler(w, opts)
	}
	// Both handlers write through one lock, so that their lines never
	// interleave, on a writer that is not safe for concurrent use too.
	lw := &lockedWriter{w: w}
	return &handler{w: lw, std: slog.NewJSONHandler(lw, opts)}
}

type handler struct {
	w   *lockedWriter
	std slog.Handler // everything this handler does not write itself
}

// Enabled implements slog.Handler, as JSONHandler with the same options.
func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.std.Enabled(ctx, l) }

// WithAttrs implements slog.Handler: the derived handler is JSONHandler's.
func (h *handler) WithAttrs(as []slog.Attr) slog.Handler { return h.std.WithAttrs(as) }

// WithGroup implements slog.Handler: the derived handler is JSONHandler's.
func (h *handler) WithGroup(name string) slog.Handler { return h.std.WithGroup(name) }

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Handle implements slog.Handler.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	bp := buffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 16<<10 { // as slog: big buffers are not kept
			*bp = (*bp)[:0]
			buffers.Put(bp)
		}
	}()
	b, ok := appendRecord((*bp)[:0], r)
	*bp = b
	if !ok {
		return h.std.Handle(ctx, r)
	}
	_, err := h.w.Write(b)
	return err
}

// appendRecord appends r's line as JSONHandler (no options but Level)
// writes it, or reports false when r holds something it leaves to
// JSONHandler.
func appendRecord(b []byte, r slog.Record) ([]byte, bool) {
	b = append(b, '{')
	if !r.Time.IsZero() {
		var ok bool
		if b, ok = appendTime(append(b, `"time":`...), r.Time); !ok {
			return b, false
		}
		b = append(b, ',')
	}
	b = appendString(append(b, `"level":`...), r.Level.String())
	b = appendString(append(b, `,"msg":`...), r.Message)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		b, ok = appendAttr(b, a)
		return ok
	})
	return append(b, "}\n"...), ok
}

// appendAttr appends ,"key":value for the kinds it knows, resolving
// LogValuers first, as JSONHandler does.
func appendAttr(b []byte, a slog.Attr) ([]byte, bool) {
	if a.Key == "" {
		return b, false // empty attributes are elided, groups inlined: JSONHandler's
	}
	v := a.Value.Resolve()
	b = appendString(append(b, ','), a.Key)
	b = append(b, ':')
	switch v.Kind() {
	case slog.KindString:
		return appendString(b, v.String()), true
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10), true
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10), true
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool()), true
	case slog.KindDuration:
		return strconv.AppendInt(b, int64(v.Duration()), 10), true
	case slog.KindTime:
		return appendTime(b, v.Time())
	case slog.KindFloat64:
		// What json.Marshal writes for a float64 outside its exponent
		// range; NaN and the infinities, which it refuses, and the
		// exponent forms are JSONHandler's to write.
		f := v.Float64()
		if abs := math.Abs(f); math.IsNaN(f) || math.IsInf(f, 0) || abs != 0 && (abs < 1e-6 || abs >= 1e21) {
			return b, false
		}
		return strconv.AppendFloat(b, f, 'f', -1, 64), true
	}
	return b, false
}

// appendTime is JSONHandler's time: RFC 3339 with nanoseconds, for years
// of four digits (JSONHandler writes an error otherwise).
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y >= 10000 {
		return b, false
	}
	b = append(b, '"')
	b = t.Round(0).AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendString appends s quoted and escaped as JSONHandler does: control
// characters, '"' and '\\' escaped, invalid UTF-8 as \ufffd, U+2028 and
// U+2029 escaped, HTML characters left as they are.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hex = "0123456789abcdef"

// lockedWriter serializes the writes of both handlers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// LogAttrs is log.LogAttrs(ctx, level, msg, attrs...) without the caller's
// program counter, which slog.Logger finds with runtime.Callers on every
// record for the source location, and which only a handler with AddSource
// writes (the server's do not; with one, these records have no source).
// It is for the lines logged on every request.
func LogAttrs(ctx context.Context, log *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	h := log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(attrs...)
	_ = h.Handle(ctx, r)
}
