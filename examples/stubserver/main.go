// Command stubserver is a backend team's own server for the smscode API,
// built with the stub kit: it offers only the send operation, which it
// hands to its own SMS pipeline (here: it logs the request), and every
// other operation answers 501 SYS.0003. Requests are validated and refused
// with the spec's documented Error bodies by kit, before SendSms runs.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/kit"
)

// api implements the operations the team offers; kit.Unimplemented the rest.
type api struct {
	kit.Unimplemented
	log *slog.Logger
}

func (a api) SendSms(ctx context.Context, req genserver.SendSmsRequestObject) (genserver.SendSmsResponseObject, error) {
	a.log.InfoContext(ctx, "send", "scenario", req.Body.Type) // the team's pipeline goes here
	return genserver.SendSms200JSONResponse{Body: gen.SendSmsResultOK}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	e, err := kit.NewEcho(api{log: log}, kit.Config{Log: log}) // the whole wiring
	if err != nil {
		log.Error("stubserver", "error", err)
		os.Exit(1)
	}
	srv := &http.Server{Addr: *addr, Handler: e, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 32 << 10}
	log.Error("stubserver", "error", srv.ListenAndServe())
	os.Exit(1)
}
