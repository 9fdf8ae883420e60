package slider_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha"
	"github.com/smscode/smscode/server/captcha/slider"
)

// mapKeeper is a Keeper for the example; the server passes its shared
// store, whose entries also expire.
type mapKeeper struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (k *mapKeeper) Put(_ context.Context, key string, v []byte, _ time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = v
	return nil
}

func (k *mapKeeper) Take(_ context.Context, key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	delete(k.m, key)
	return v, ok, nil
}

// code is the API error code of err, or "ok".
func code(err error) string {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return string(ae.Code)
	}
	return "ok"
}

// The three calls a server makes: Issue for GET /api/v2/sdk/captcha, Check
// for POST /api/v2/sdk/captcha/verify, and Verify (as a captcha.Verifier)
// when the captcha_token reaches POST /api/v2/sdk/sms/send.
func Example() {
	s, err := slider.New(slider.Config{}, &mapKeeper{m: map[string][]byte{}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	scope := apps.Scope("DRrYIqauawN0I8my", "") // X-client-id, X-tenant-id

	p, err := s.Issue(ctx, scope)
	if err != nil {
		panic(err)
	}
	fmt.Printf("puzzle %dx%d, token of %d characters\n", p.Width, p.Height, len(p.Token))

	// A slide far from the hole fails, and spends the puzzle.
	_, err = s.Check(ctx, scope, p.Token, `{"x":1.0,"y":5.0}`, "+8613812345678")
	fmt.Println("first try:", code(err))
	_, err = s.Check(ctx, scope, p.Token, `{"x":1.0,"y":5.0}`, "+8613812345678")
	fmt.Println("second try:", code(err))

	// A captcha_token that Check never returned does not pass the send.
	err = s.Verify(ctx, captcha.Request{
		Token:    p.Token + `---{"x":1.0,"y":5.0}`,
		Mobile:   "+8613812345678",
		ClientID: "DRrYIqauawN0I8my",
	})
	fmt.Println("send:", code(err))
	// Output:
	// puzzle 310x155, token of 32 characters
	// first try: CAPTCHA.0002
	// second try: CAPTCHA.0004
	// send: CAPTCHA.0004
}
