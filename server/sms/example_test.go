package sms_test

import (
	"context"
	"fmt"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/sms"
)

// Rendering a message from the X-L header, with an application's own
// English login text and its web domain for autofill.
func ExampleTemplates_Render() {
	templates, err := sms.DefaultTemplates().With(map[string]map[string]string{
		"en": {string(gen.ScenarioLogin): "{signature}{code} is your Example sign-in code. It expires in {minutes} min."},
	})
	if err != nil {
		panic(err)
	}
	for _, xl := range []string{"en-GB", "zh-CN"} {
		text, lang := templates.Render(sms.RenderInput{
			Scenario:  string(gen.ScenarioLogin),
			Lang:      xl,
			Code:      "493027",
			TTL:       5 * time.Minute,
			Signature: "[Example] ",
			Domain:    "example.com",
		})
		fmt.Printf("%s:\n%s\n", lang, text)
	}
	// Output:
	// en:
	// [Example] 493027 is your Example sign-in code. It expires in 5 min.
	// @example.com #493027
	// zh:
	// [Example] 您的验证码为493027，5分钟内有效，用于登录。请勿泄露给他人。
	// @example.com #493027
}

// A pipeline test sends through a Memory provider and reads the code the
// user would have received.
func ExampleMemory() {
	provider := sms.NewMemory()
	_, _ = provider.Send(context.Background(), sms.Message{ID: "m1", To: "+8612345678901", Code: "493027", Text: "..."})

	if msg, ok := provider.Last("+8612345678901"); ok {
		fmt.Println(msg.Code, provider.Count())
	}
	// Output: 493027 1
}

// SetFailure makes a provider refuse, temporarily or for good.
func ExampleMemory_SetFailure() {
	provider := sms.NewNamedMemory("primary")
	provider.SetFailure(func(sms.Message) error {
		return fmt.Errorf("number blocked by the gateway: %w", sms.ErrPermanent)
	})
	_, err := provider.Send(context.Background(), sms.Message{To: "+8612345678901"})
	fmt.Println(err)
	// Output: number blocked by the gateway: sms: permanent refusal
}
