package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/internal/testutil"
)

// Redis never sees a phone number: after sends (with and without a captcha
// token), a wrong and a right verification on two instances, no key in
// Redis and no command in a MONITOR capture of the whole run (the Lua
// scripts' own commands included) contains the number, its national
// digits, or its pumping prefix. Numbers are keyed hashes under the server
// secret in every key and binding.
func TestRedisHoldsNoNumber(t *testing.T) {
	c := startCluster(t, 2, 0)
	const mobile, other = "13912345678", "13887654321"
	// Nor the device fingerprint, plain or as its unkeyed digest.
	fpSum := sha256.Sum256([]byte("keys"))
	leaks := []string{mobile, e164(mobile), other, e164(other), "+86139", "+86138", "12345678", "87654321",
		hex.EncodeToString(fpSum[:12])}

	mon, err := net.DialTimeout("tcp", c.redis.Addr(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var capture testutil.SyncBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(mon)
		for {
			line, err := r.ReadString('\n')
			_, _ = capture.Write([]byte(line))
			if err != nil {
				return
			}
		}
	}()
	if _, err := mon.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "MONITOR to start", 2*time.Second, func() bool { return strings.HasPrefix(capture.String(), "+OK") })

	a, b := c.nodes[0], c.nodes[1]
	want(t, "send via A", a.send(t, sendReq{app: loadApp, mobile: mobile, device: "keys"}), http.StatusOK, "")
	code := onlyCode(t, c.gw, mobile)
	want(t, "wrong code via B", b.verify(t, mobile, wrongCode(code)), http.StatusBadRequest, "VERIFY.0001")
	want(t, "right code via A", a.verify(t, mobile, code), http.StatusOK, "")
	want(t, "send with a captcha token via B",
		b.send(t, sendReq{app: captchaApp, mobile: other, token: "good-keys-1", device: "keys"}), http.StatusOK, "")
	want(t, "no code pending via A", a.verify(t, other, "123456"), http.StatusBadRequest, "VERIFY.0002")

	rdb := redis.NewClient(&redis.Options{Addr: c.redis.Addr()})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	// The last command of the run reaches the capture, so it is complete.
	waitFor(t, "the KEYS command in the capture", 2*time.Second, func() bool {
		return strings.Contains(strings.ToLower(capture.String()), `"keys" "*"`)
	})
	_ = mon.Close()
	<-done

	if len(keys) < 8 {
		t.Fatalf("only %d keys in Redis: %v", len(keys), keys)
	}
	mon2 := capture.String()
	for _, leak := range leaks {
		for _, k := range keys {
			if strings.Contains(k, leak) {
				t.Errorf("Redis key %q contains %q", k, leak)
			}
		}
		if i := strings.Index(mon2, leak); i >= 0 {
			t.Errorf("MONITOR shows %q: ...%s...", leak, mon2[max(0, i-80):min(len(mon2), i+40)])
		}
	}
	t.Logf("%d keys in Redis and %d bytes of MONITOR capture (%d lines): no number, national digits or prefix; e.g. %s",
		len(keys), len(mon2), strings.Count(mon2, "\n"), keys[0])
}
