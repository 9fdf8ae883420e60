package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/kit"
	"github.com/smscode/smscode/server"
	"github.com/smscode/smscode/server/captcha/altcha"
	"github.com/smscode/smscode/server/captcha/slider"
	"github.com/smscode/smscode/server/sender"
)

var seedContentType = []string{"application/json;charset=utf8"}

// seedRequest is the seed's example as a server-side request.
func seedRequest() *http.Request {
	req := httptest.NewRequest(http.MethodPost, sendPath, strings.NewReader(seedBody))
	req.Header = seedHeaders()
	return req
}

// BenchmarkValidate measures the validator alone: one valid send request
// checked against the spec, with a handler that does nothing.
func BenchmarkValidate(b *testing.B) {
	spec, err := genserver.GetSpec()
	if err != nil {
		b.Fatal(err)
	}
	validate, err := kit.NewValidator(spec)
	if err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	e.Use(validate)
	e.POST(sendPath, func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	req := seedRequest()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		req.Body = io.NopCloser(strings.NewReader(seedBody))
		req.ContentLength = int64(len(seedBody))
		req.Header["Content-Type"] = seedContentType // the validator normalizes it
		w.status = 0
		e.ServeHTTP(w, req)
		if w.status != http.StatusNoContent {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkSendHandler measures one valid send through the whole server:
// every middleware, the validator, the generated strict handler and a
// service that does nothing.
func BenchmarkSendHandler(b *testing.B) {
	srv, err := server.New(server.Config{}, noopService{}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	req := seedRequest()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		req.Body = io.NopCloser(strings.NewReader(seedBody))
		req.ContentLength = int64(len(seedBody))
		req.Header["Content-Type"] = seedContentType // the validator normalizes it
		clear(w.h)
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status, so the
// benchmarks measure the server rather than a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

type noopService struct{}

func (noopService) Send(context.Context, sender.SendRequest) (sender.SendResult, error) {
	return sender.SendResult{ResendAfter: time.Minute, ExpiresIn: 5 * time.Minute}, nil
}
func (noopService) Verify(context.Context, sender.VerifyRequest) error { return nil }
func (noopService) Ready(context.Context) error                        { return nil }
func (noopService) Puzzle(context.Context, sender.Caller) (slider.Puzzle, error) {
	return slider.Puzzle{}, nil
}
func (noopService) CheckCaptcha(context.Context, sender.CaptchaCheck) (string, error) { return "", nil }
func (noopService) AltchaChallenge(context.Context, sender.Caller) (altcha.Challenge, error) {
	return altcha.Challenge{}, nil
}
func (noopService) CountryCodes(context.Context, sender.Caller) (sender.CountryCodes, error) {
	return sender.CountryCodes{}, nil
}

// BenchmarkReceiptsRoute measures one receipt through the whole server
// (MountReceipts): every middleware, with a handler that reads the body
// and answers 204, as a gateway's receipt with no ack is answered.
func BenchmarkReceiptsRoute(b *testing.B) {
	srv, err := server.New(server.Config{}, noopService{}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv.MountReceipts(func(c echo.Context) error {
		if _, err := io.Copy(io.Discard, c.Request().Body); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	h := srv.Handler()
	const body = `{"message_id":"gw-1","status":"delivered"}`
	req := httptest.NewRequest(http.MethodPost, receiptsPath, strings.NewReader(body))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
		clear(w.h)
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusNoContent {
			b.Fatalf("status %d", w.status)
		}
	}
}
