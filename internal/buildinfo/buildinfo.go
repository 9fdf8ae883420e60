// Package buildinfo says which build of smscode is running: its version,
// VCS revision and Go version. One place for `smscode -version`, the
// smscode_build_info metric, the image's OCI labels and the trace resource.
//
// Version and revision come from the linker when the Makefile builds
// (-ldflags "-X github.com/smscode/smscode/internal/buildinfo.version=v1.2.3
// -X ...revision=abc123", see LDFLAGS there), and otherwise from what the Go
// toolchain records in the binary (debug.ReadBuildInfo: the module version
// of `go install ...@v1.2.3`, the vcs.revision of a build in a git checkout).
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Set by the linker (-X); empty in a plain `go build`.
var (
	version  string
	revision string
)

// Info describes the running binary.
type Info struct {
	// Version is a release tag (v1.2.0), a `git describe` string, or
	// "devel" when nothing recorded one.
	Version string
	// Revision is the VCS commit the binary was built from, "unknown" when
	// not recorded; a "-dirty" suffix marks uncommitted changes.
	Revision string
	// GoVersion is the Go toolchain that built it (go1.26.8).
	GoVersion string
}

// Get returns the running binary's build information.
var Get = sync.OnceValue(func() Info { return read(version, revision, debug.ReadBuildInfo) })

func read(ver, rev string, readBuild func() (*debug.BuildInfo, bool)) Info {
	info := Info{Version: ver, Revision: rev, GoVersion: runtime.Version()}
	if bi, ok := readBuild(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if info.Revision == "" {
			var modified bool
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					info.Revision = s.Value
				case "vcs.modified":
					modified = s.Value == "true"
				}
			}
			if info.Revision != "" && modified {
				info.Revision += "-dirty"
			}
		}
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Revision == "" {
		info.Revision = "unknown"
	}
	return info
}
