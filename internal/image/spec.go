// Package image builds smscode's container image without a Docker daemon:
// an OCI image of the static binary on a minimal base made here (Debian's
// CA certificates and tzdata, a non-root user, a writable working
// directory), written as a tarball that `docker load`, `podman load` and
// crane read. go-containerregistry assembles the layers, config and
// manifest; this package only chooses what goes in.
//
// The top-level Dockerfile builds the same image for those who have
// Docker; a test parses it and compares what it declares with Declared.
package image

import (
	"embed"
	"maps"
	"slices"
)

// The image's user: numeric, so that Kubernetes' runAsNonRoot can check it
// without reading /etc/passwd (a user name there is refused).
const (
	UID = 65532
	GID = 65532
)

// Paths inside the image.
const (
	BinaryPath = "/usr/local/bin/smscode"
	// WorkDir is the working directory, owned by the image's user: dev mode
	// keeps its generated secret there (.smscode/secret, relative to it).
	WorkDir = "/var/lib/smscode"
	// CACertsPath is where Go's crypto/x509 looks first on Linux.
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// ZoneinfoDir is where Go's time package looks first.
	ZoneinfoDir = "/usr/share/zoneinfo"
)

// Ports the image exposes: the API and the separate metrics listener that
// Cmd turns on.
const (
	APIPort     = 8080
	MetricsPort = 9090
)

// Source is the project's repository, for the org.opencontainers.image.source label.
const Source = "https://github.com/smscode/smscode"

// etcFiles are /etc/passwd and /etc/group of the image, committed here and
// copied by the Dockerfile too, so both images have the same bytes.
//
//go:embed rootfs/etc/passwd rootfs/etc/group
var etcFiles embed.FS

// Spec is what the image declares in its config: one source for the
// builder and for the test that holds the Dockerfile to the same values.
type Spec struct {
	User         string
	WorkingDir   string
	Entrypoint   []string
	Cmd          []string
	Env          []string
	ExposedPorts []string // "8080/tcp"
	Labels       map[string]string
}

// Declared returns the image config for a build of version and revision.
func Declared(version, revision string) Spec {
	return Spec{
		User:       "65532:65532",
		WorkingDir: WorkDir,
		Entrypoint: []string{BinaryPath},
		// The embedded defaults listen on 127.0.0.1, unreachable from outside
		// a container: listen on every interface, and serve /metrics on its
		// own port. A -config file replaces these (its addr decides then).
		Cmd: []string{"-addr", "0.0.0.0:8080", "-metrics-addr", "0.0.0.0:9090"},
		// BuildKit gives every image this PATH; declaring it keeps the
		// daemonless image equal to the Dockerfile's.
		Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		ExposedPorts: []string{"8080/tcp", "9090/tcp"},
		Labels: map[string]string{
			"org.opencontainers.image.title":       "smscode",
			"org.opencontainers.image.description": "SMS verification-code API (OneAccess-compatible)",
			"org.opencontainers.image.version":     version,
			"org.opencontainers.image.revision":    revision,
			"org.opencontainers.image.source":      Source,
		},
	}
}

// Equal reports whether two specs declare the same; the order of exposed
// ports does not matter (the image config keeps them in a map).
func (s Spec) Equal(o Spec) bool {
	return s.User == o.User && s.WorkingDir == o.WorkingDir &&
		slices.Equal(s.Entrypoint, o.Entrypoint) && slices.Equal(s.Cmd, o.Cmd) &&
		slices.Equal(s.Env, o.Env) &&
		slices.Equal(slices.Sorted(slices.Values(s.ExposedPorts)), slices.Sorted(slices.Values(o.ExposedPorts))) &&
		maps.Equal(s.Labels, o.Labels)
}
