package wire

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/demo"
	"github.com/smscode/smscode/server/phone"
	"github.com/smscode/smscode/server/sms"
)

// mountDemo serves the demo page at /demo for the first application, and in
// dev mode, when a log provider is configured, the outbox that shows the
// last message sent to a number (GET /demo/outbox?mobile=...), so that the
// flow can be tried without a phone. Outside dev mode there is no outbox:
// codes never leave the server except by SMS.
func mountDemo(cfg config.Config, rt *Runtime) {
	enabled := cfg.DevMode
	if cfg.Demo != nil {
		enabled = *cfg.Demo
	}
	if !enabled || len(cfg.Apps) == 0 {
		return
	}
	var outbox *sms.Log
	if cfg.DevMode {
		for _, p := range rt.Providers {
			if l, ok := p.(*sms.Log); ok {
				outbox = l
				break
			}
		}
	}
	e := rt.Server.Echo()
	page := echo.WrapHandler(demo.Handler(demo.Config{
		ClientID: cfg.Apps[0].ClientID, TenantID: cfg.Apps[0].TenantID, DevMode: outbox != nil,
		Captcha: cfg.Apps[0].Captcha.Kind,
	}))
	e.GET(demo.Prefix, page)
	e.GET(demo.Prefix+"/*", page)
	if outbox == nil {
		return
	}
	e.GET(demo.Prefix+"/outbox", func(c echo.Context) error {
		num, err := phone.Policy{}.Parse(c.QueryParam("mobile"))
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		msg, ok := outbox.Last(num.E164)
		if !ok {
			return c.JSON(http.StatusOK, outboxMessage{})
		}
		return c.JSON(http.StatusOK, outboxMessage{To: phone.Mask(msg.To), Text: msg.Text})
	})
}

// outboxMessage is the dev-mode outbox's answer: the text of the last
// message (code included) and its masked destination.
type outboxMessage struct {
	To   string `json:"to,omitempty"`
	Text string `json:"text,omitempty"`
}
