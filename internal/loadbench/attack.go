package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/smscode/smscode/internal/seed"
)

// The OneAccess example request's values.
const (
	seedClientID = seed.ClientID
	seedTenantID = seed.TenantID
	seedScenario = seed.Scenario
	seedToken    = seed.CaptchaToken
)

// seedHeaders are the OneAccess example request's headers.
var seedHeaders = seed.Headers

// mobile is the i-th 11-digit mainland number of a range: two leading
// digits (the range, "13" to "19") and nine from i. Ranges keep the
// scenarios' numbers apart, so that one scenario's cooldowns cannot refuse
// another's sends.
func mobile(rng string, i uint64) string {
	b := make([]byte, 0, 11)
	b = append(b, rng...)
	d := strconv.AppendUint(nil, i%1_000_000_000, 10)
	for range 9 - len(d) {
		b = append(b, '0')
	}
	return string(append(b, d...))
}

// sendBody is a send request's body: the seed's, with another number.
func sendBody(mobile string) []byte {
	return []byte(`{"mobile":"` + mobile + `","type":"` + seedScenario +
		`","captcha_token":` + strconv.Quote(seedToken) + `}`)
}

// verifyBody is a verify request's body.
func verifyBody(mobile, code string) []byte {
	return []byte(`{"mobile":"` + mobile + `","type":"` + seedScenario + `","verify_code":"` + code + `"}`)
}

// target builds one request. Targeters are called from every worker at
// once; they count with an atomic so that each request gets its own body.
type target func(i uint64, t *vegeta.Target) error

// targeter turns a target into vegeta's Targeter, numbering the requests.
func targeter(f target) vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		return f(n.Add(1)-1, t)
	}
}

// sendsTo is accepted sends: a new number of range rng every request.
// offset moves the numbers (a run against a Redis that keeps earlier runs'
// cooldowns needs numbers of its own).
func sendsTo(base, rng string, offset uint64) target {
	hdr := seedHeaders()
	return func(i uint64, t *vegeta.Target) error {
		t.Method, t.URL, t.Header = http.MethodPost, base+sendPath, hdr
		t.Body = sendBody(mobile(rng, offset+i))
		return nil
	}
}

// sameNumber is the same send every time: after the first, each is
// refused by the per-number cooldown (429 SMS.0001).
func sameNumber(base, number string) target {
	hdr := seedHeaders()
	body := sendBody(number)
	return func(_ uint64, t *vegeta.Target) error {
		t.Method, t.URL, t.Header, t.Body = http.MethodPost, base+sendPath, hdr, body
		return nil
	}
}

// invalid alternates two requests the server must refuse: a malformed
// mobile number (USER.0038, refused by the spec validator's pattern) and a
// request without the X-device-fingerprint header (HEADER.0002).
func invalid(base string) target {
	full := seedHeaders()
	noFingerprint := seedHeaders()
	noFingerprint.Del("X-device-fingerprint")
	badMobile := sendBody("1234")
	good := sendBody(mobile("16", 0))
	return func(i uint64, t *vegeta.Target) error {
		t.Method, t.URL = http.MethodPost, base+sendPath
		if i%2 == 0 {
			t.Header, t.Body = full, badMobile
		} else {
			t.Header, t.Body = noFingerprint, good
		}
		return nil
	}
}

// pending is a code waiting to be verified.
type pending struct{ mobile, code string }

// verifies checks each pending code once, with the right code: every
// request takes the verify path that succeeds and consumes the code. When
// the codes run out the attack stops early (vegeta.ErrNoTargets).
func verifies(base string, codes []pending) target {
	hdr := seedHeaders()
	return func(i uint64, t *vegeta.Target) error {
		if i >= uint64(len(codes)) {
			return vegeta.ErrNoTargets
		}
		t.Method, t.URL, t.Header = http.MethodPost, base+verifyPath, hdr
		t.Body = verifyBody(codes[i].mobile, codes[i].code)
		return nil
	}
}

// expect is the answer every request of a scenario must get: an HTTP
// status and, for errors, one of the error codes.
type expect struct {
	Status int
	Codes  []string
}

func (e expect) String() string {
	if len(e.Codes) == 0 {
		return strconv.Itoa(e.Status)
	}
	return strconv.Itoa(e.Status) + " " + strings.Join(e.Codes, "|")
}

// outcome is what one attack measured.
type outcome struct {
	Requests   uint64         `json:"requests"`
	Seconds    float64        `json:"seconds"`
	RPS        float64        `json:"rps"` // every answer, refusals included
	P50        time.Duration  `json:"p50_ns"`
	P99        time.Duration  `json:"p99_ns"`
	Answers    map[string]int `json:"answers"` // "200", "429 SMS.0001", "error: ..."
	Mismatches uint64         `json:"mismatches"`
	// Sample is the first answer that was not the expected one.
	Sample string `json:"sample,omitempty"`
	// CPU is the CPU time used during the attack by this process (server
	// and load generator) and by the scenario's other processes (Redis).
	CPU time.Duration `json:"cpu_ns"`
	// ExtCPU is the part of CPU used by the other processes.
	ExtCPU time.Duration `json:"ext_cpu_ns,omitempty"`
	// RanOut is set when the targeter ran out of requests before the
	// duration (the verify scenario's prepared codes).
	RanOut bool `json:"ran_out,omitempty"`
	// Redis is what Redis did per accepted send (scenario (d)).
	Redis *redisUse `json:"redis,omitempty"`
}

// newClient is the load generator's HTTP client for one server: keep-alive
// connections, as many idle ones as there are workers so that none is
// closed and redialled between requests, and no compression.
func newClient(workers int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: workers,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// attack drives tr at full speed from a fixed number of workers (a closed
// loop: each worker sends its next request when the last one is answered)
// for d, and checks every answer against want. ext, when not nil, reads
// the CPU time of another process the scenario uses.
//
// A closed loop with a worker cap, rather than a fixed rate, measures the
// most the server serves on this machine, which is what the ratios compare;
// a fixed rate above that would only queue, one below it would not say.
func attack(ctx context.Context, client *http.Client, workers int, d time.Duration, tr vegeta.Targeter, want expect, ext func() time.Duration) outcome {
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(uint64(workers)),
		vegeta.MaxWorkers(uint64(workers)),
	)
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()

	var m vegeta.Metrics
	out := outcome{Answers: map[string]int{}}
	cpu0, ext0 := processCPU(), extCPU(ext)
	for res := range atk.Attack(tr, vegeta.Rate{}, d, "") {
		if res.Code == 0 && res.Error == vegeta.ErrNoTargets.Error() {
			out.RanOut = true
			continue
		}
		m.Add(res)
		got := answer(res)
		out.Answers[got]++
		if !want.matches(res.Code, got) {
			out.Mismatches++
			if out.Sample == "" {
				out.Sample = fmt.Sprintf("%s: %s", got, bytes.TrimSpace(res.Body))
			}
		}
	}
	out.ExtCPU = extCPU(ext) - ext0
	out.CPU = processCPU() - cpu0 + out.ExtCPU
	m.Close()
	out.Requests = m.Requests
	// Throughput counts every answer: vegeta's Throughput counts only
	// 2xx/3xx, and scenarios (b) and (c) are all 4xx by design.
	out.Seconds = (m.Duration + m.Wait).Seconds()
	if out.Seconds > 0 {
		out.RPS = float64(m.Requests) / out.Seconds
	}
	out.P50, out.P99 = m.Latencies.P50, m.Latencies.P99
	return out
}

func extCPU(ext func() time.Duration) time.Duration {
	if ext == nil {
		return 0
	}
	return ext()
}

// answer names a result: its status, and for an error body its error_code.
func answer(res *vegeta.Result) string {
	if res.Code == 0 {
		return "error: " + res.Error
	}
	s := strconv.Itoa(int(res.Code))
	if c := errorCode(res.Body); c != "" {
		s += " " + c
	}
	return s
}

// errorCode finds the error_code of an error body without decoding the
// JSON: the load generator shares the CPUs with the server, so it should
// spend as little as it can.
func errorCode(body []byte) string {
	const key = `"error_code":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

func (e expect) matches(status uint16, got string) bool {
	if int(status) != e.Status {
		return false
	}
	if len(e.Codes) == 0 {
		return true
	}
	_, code, _ := strings.Cut(got, " ")
	return slices.Contains(e.Codes, code)
}
