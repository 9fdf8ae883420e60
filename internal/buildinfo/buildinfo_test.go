package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestRead(t *testing.T) {
	withBuild := func(mainVersion string, settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: mainVersion}, Settings: settings}, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	tests := []struct {
		name     string
		ver, rev string
		read     func() (*debug.BuildInfo, bool)
		want     Info
	}{
		{"linker values win", "v1.2.0", "abc", withBuild("v0.9.0", debug.BuildSetting{Key: "vcs.revision", Value: "def"}),
			Info{Version: "v1.2.0", Revision: "abc", GoVersion: "go1.99.1"}},
		{"go install @version", "", "", withBuild("v1.3.0"),
			Info{Version: "v1.3.0", Revision: "unknown", GoVersion: "go1.99.1"}},
		{"git checkout, modified", "", "", withBuild("(devel)",
			debug.BuildSetting{Key: "vcs.revision", Value: "0123"}, debug.BuildSetting{Key: "vcs.modified", Value: "true"}),
			Info{Version: "devel", Revision: "0123-dirty", GoVersion: "go1.99.1"}},
		{"nothing recorded", "", "", none, Info{Version: "devel", Revision: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := read(tt.ver, tt.rev, tt.read)
			if tt.want.GoVersion == "" {
				tt.want.GoVersion = got.GoVersion // runtime.Version()
			}
			if got != tt.want {
				t.Fatalf("read = %+v, want %+v", got, tt.want)
			}
		})
	}
}
