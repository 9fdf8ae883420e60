package wire_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/wire"
)

// A program loads and validates a configuration with package config, then
// assembles the service with wire.Build, as cmd/smscode does. Here: the
// embedded defaults (dev mode, memory store, SMS to the log), with the dev
// secret kept in a temporary directory.
func ExampleBuild() {
	cfg, err := config.Default()
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "wire-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg.SecretFile = filepath.Join(dir, "secret")

	rt, err := wire.Build(cfg, slog.New(slog.DiscardHandler), wire.Overrides{})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	if err := rt.Ping(context.Background()); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(rt.Server.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/openapi.yaml")
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(len(rt.Providers), "provider;", "GET /openapi.yaml:", res.StatusCode)
	// Output: 1 provider; GET /openapi.yaml: 200
}
