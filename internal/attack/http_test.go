package attack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
)

// Oversized requests are refused without harming the server: headers a
// little over the limit get the JSON 431 HEADER.0006; headers beyond what
// the http.Server reads at all (twice the limit) get Go's own 431 and the
// connection is closed; a body over the limit gets 413 REQ.0002 whether
// its length is declared or not. After each, a normal request is served.
func TestOversizedRequests(t *testing.T) {
	tg := start(t)
	addr := strings.TrimPrefix(tg.URL, "http://")
	body := `{"mobile":"13800000001","type":"LOGIN_SMS","captcha_token":"71d******635---{\"x\":237.0,\"y\":5.0}"}`
	tests := []struct {
		name string
		// extra is an additional header line's value, sent as X-Padding.
		extra int
		// body is the request body; chunked sends it without a length.
		body    string
		chunked bool
		// status and code are the answer; code "" means Go's plain-text
		// answer (no JSON body), and closed that the server must close
		// the connection afterwards.
		status int
		code   gen.ErrorCode
		closed bool
	}{
		{name: "headers over the limit (20 KiB)", extra: 20 << 10, body: body,
			status: http.StatusRequestHeaderFieldsTooLarge, code: gen.ErrorCodeHeadersTooLarge},
		{name: "headers of 64 KiB", extra: 64 << 10, body: body,
			status: http.StatusRequestHeaderFieldsTooLarge, closed: true},
		{name: "headers of 1 MiB", extra: 1 << 20, body: body,
			status: http.StatusRequestHeaderFieldsTooLarge, closed: true},
		{name: "body of 1 MiB", body: padBody(1 << 20),
			status: http.StatusRequestEntityTooLarge, code: gen.ErrorCodeBodyTooLarge},
		{name: "chunked body of 1 MiB", body: padBody(1 << 20), chunked: true,
			status: http.StatusRequestEntityTooLarge, code: gen.ErrorCodeBodyTooLarge},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := rawHead(addr, "")
			if tt.extra > 0 {
				fmt.Fprintf(req, "X-Padding: %s\r\n", strings.Repeat("a", tt.extra))
			}
			if tt.chunked {
				fmt.Fprintf(req, "Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(tt.body), tt.body)
			} else {
				fmt.Fprintf(req, "Content-Length: %d\r\n\r\n%s", len(tt.body), tt.body)
			}
			r, closed := rawExchange(t, addr, req.Bytes())
			if r.Status != tt.status {
				t.Fatalf("got %s, want %d", r, tt.status)
			}
			if tt.code != "" {
				checkErrorBody(t, r)
				var e gen.Error
				_ = json.Unmarshal(r.Body, &e)
				if e.ErrorCode != tt.code {
					t.Fatalf("got %s, want %s", r, tt.code)
				}
			}
			if tt.closed && !closed {
				t.Errorf("the connection was left open after %s", r)
			}
			// The server keeps serving.
			want(t, tg.send(t, fmt.Sprintf("1390000000%d", i), login,
				map[string]string{"X-device-fingerprint": fmt.Sprintf("after-%d", i)}), http.StatusOK, "")
		})
	}
}

// padBody is a send body of n bytes: JSON, so that only its size is wrong.
func padBody(n int) string {
	head := `{"mobile":"`
	return head + strings.Repeat("1", n-len(head)-2) + `"}`
}

// Slow clients (slowloris) do not hold the server: 50 connections that
// send their headers a line at a time are closed once ReadHeaderTimeout
// has passed, connections that send their body slowly are answered
// REQ.0001 once ReadTimeout has passed, and a normal request is served at
// once all the while.
func TestSlowClientsDoNotHoldTheServer(t *testing.T) {
	const (
		headerTimeout = 400 * time.Millisecond
		readTimeout   = 800 * time.Millisecond
		slowClients   = 50
		drip          = 100 * time.Millisecond
	)
	tg := start(t, servertest.WithConfig(func(c *config.Config) {
		c.HTTP = server.Config{ReadHeaderTimeout: headerTimeout, ReadTimeout: readTimeout}
	}))
	addr := strings.TrimPrefix(tg.URL, "http://")

	results := make(chan slowOutcome, slowClients)
	var wg sync.WaitGroup
	for i := 0; i < slowClients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results <- slowHeaders(addr, i, drip)
		}(i)
	}

	// Meanwhile, an honest client is served at once, several times.
	time.Sleep(drip)
	for i := 0; i < 3; i++ {
		began := time.Now()
		want(t, tg.send(t, fmt.Sprintf("1370000000%d", i), login,
			map[string]string{"X-device-fingerprint": fmt.Sprintf("honest-%d", i)}), http.StatusOK, "")
		if d := time.Since(began); d > headerTimeout {
			t.Errorf("an honest request took %v during the attack", d)
		}
	}
	wg.Wait()
	close(results)
	for o := range results {
		if o.err != nil {
			t.Fatal(o.err)
		}
		// Closed at ReadHeaderTimeout, give or take scheduling on a
		// loaded machine; never held for the whole 5 s drip budget.
		if o.held < headerTimeout-50*time.Millisecond || o.held > headerTimeout+time.Second {
			t.Errorf("a slow-header connection was held %v, want about %v", o.held, headerTimeout)
		}
	}

	// A slow body: the headers arrive at once, the body a byte at a time.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"mobile":"13800000009","type":"LOGIN_SMS","captcha_token":"x"}`
	var head bytes.Buffer
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", sendPath, addr, len(body))
	for k, vs := range headers(nil) {
		fmt.Fprintf(&head, "%s: %s\r\n", k, vs[0])
	}
	head.WriteString("\r\n")
	began := time.Now()
	if _, err := conn.Write(head.Bytes()); err != nil {
		t.Fatal(err)
	}
	answered := make(chan *http.Response, 1)
	go func() {
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- nil
			return
		}
		answered <- res
	}()
	var res *http.Response
drip:
	for i := 0; i < len(body); i++ {
		select {
		case res = <-answered:
			break drip
		case <-time.After(drip):
			_, _ = conn.Write([]byte{body[i]})
		}
	}
	if res == nil {
		res = <-answered
	}
	held := time.Since(began)
	if res == nil {
		t.Fatal("the slow-body connection was closed without an answer")
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	r := reply{Status: res.StatusCode, Header: res.Header, Body: got}
	checkErrorBody(t, r)
	var e gen.Error
	_ = json.Unmarshal(got, &e)
	if res.StatusCode != http.StatusBadRequest || e.ErrorCode != gen.ErrorCodeBodyMalformed {
		t.Errorf("slow body: got %s, want 400 REQ.0001", r)
	}
	if held < readTimeout-50*time.Millisecond || held > readTimeout+time.Second {
		t.Errorf("the slow-body connection was held %v, want about %v", held, readTimeout)
	}
}

// slowOutcome is what became of a slow client's connection.
type slowOutcome struct {
	held time.Duration // from connecting until the server closed
	err  error
}

// slowHeaders connects to addr and sends a request line and then one
// header line every drip, for up to 5 s, and reports how long the server
// let it go on before closing the connection.
func slowHeaders(addr string, i int, drip time.Duration) (o slowOutcome) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		o.err = err
		return o
	}
	defer conn.Close()
	began := time.Now()
	if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\n", sendPath, addr); err != nil {
		o.err = err
		return o
	}
	closed := make(chan struct{})
	go func() {
		// Whatever the server sends (nothing, or a 408) ends with EOF or
		// a reset when it closes.
		_, _ = io.Copy(io.Discard, conn)
		close(closed)
	}()
	for n := 0; time.Since(began) < 5*time.Second; n++ {
		select {
		case <-closed:
			o.held = time.Since(began)
			return o
		case <-time.After(drip):
			// A write after the server closed may fail; the reader sees
			// the close either way.
			_, _ = fmt.Fprintf(conn, "X-Slow-%d-%d: x\r\n", i, n)
		}
	}
	o.err = fmt.Errorf("slow client %d: the server kept the connection for 5 s", i)
	return o
}
