package wire

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/demo"
	"github.com/smscode/smscode/server/phone"
	"github.com/smscode/smscode/server/sms"
)

// demoEnabled reports whether /demo is served: demo, else dev mode.
func demoEnabled(cfg config.Config) bool {
	if cfg.Demo != nil {
		return *cfg.Demo
	}
	return cfg.DevMode
}

// demoPage makes a generation's demo page, for its first application, and
// finds, in dev mode, the log provider whose last message /demo/outbox
// shows; nil, nil without a demo.
func demoPage(cfg config.Config, g *generation) (http.Handler, *sms.Log) {
	if !demoEnabled(cfg) || len(cfg.Apps) == 0 {
		return nil, nil
	}
	var outbox *sms.Log
	if cfg.DevMode {
		for _, p := range cfg.Providers {
			if l, ok := g.providers[p.Name].(*sms.Log); ok {
				outbox = l
				break
			}
		}
	}
	return demo.Handler(demo.Config{
		ClientID: cfg.Apps[0].ClientID, TenantID: cfg.Apps[0].TenantID, DevMode: outbox != nil,
		Captcha: cfg.Apps[0].Captcha.Kind,
	}), outbox
}

// mountDemo serves the demo page at /demo for the first application, and in
// dev mode, when a log provider is configured, the outbox that shows the
// last message sent to a number (GET /demo/outbox?mobile=...), so that the
// flow can be tried without a phone. Outside dev mode there is no outbox:
// codes never leave the server except by SMS. The routes exist when the
// demo is on at start (demo and dev_mode need a restart); what they serve
// is the live generation's.
func mountDemo(cfg config.Config, rt *Runtime) {
	if !demoEnabled(cfg) || len(cfg.Apps) == 0 {
		return
	}
	e := rt.Server.Echo()
	page := func(c echo.Context) error {
		h := rt.live.Load().demo
		if h == nil {
			return echo.ErrNotFound
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
	e.GET(demo.Prefix, page)
	e.GET(demo.Prefix+"/*", page)
	if !cfg.DevMode {
		return
	}
	e.GET(demo.Prefix+"/outbox", func(c echo.Context) error {
		outbox := rt.live.Load().outbox
		if outbox == nil { // no log provider: the page's own answer
			return page(c)
		}
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
