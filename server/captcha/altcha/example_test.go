package altcha_test

import (
	"context"
	"fmt"

	"github.com/smscode/smscode/server/captcha"
	"github.com/smscode/smscode/server/captcha/altcha"
	"github.com/smscode/smscode/server/store/memstore"
)

// An application's challenge, solved as the widget would, spent once by
// the send pipeline; its replay is refused.
func Example() {
	st := memstore.New(memstore.Config{})
	defer st.Close()
	a, err := altcha.New(altcha.Config{Key: []byte("0123456789abcdef0123456789abcdef")}, st)
	if err != nil {
		panic(err)
	}
	c, _ := a.Issue("demo-app", 5000) // what GET /api/v2/sdk/captcha/altcha returns
	token, _, _ := altcha.Solve(c)    // what the widget posts as captcha_token
	req := captcha.Request{Token: token, ClientID: "demo-app", Mobile: "+8613800138000"}
	fmt.Println(a.Verify(context.Background(), req))
	fmt.Println(a.Verify(context.Background(), req))
	// Output:
	// <nil>
	// CAPTCHA.0004: Invalid CAPTCHA token.
}
