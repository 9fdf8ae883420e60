package image_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/smscode/smscode/internal/image"
)

// TestDockerfileDeclaresTheImage holds the top-level Dockerfile to the
// daemonless builder: with the same version and revision, its final stage
// declares the config of image.Declared (user, working directory, env,
// ports, labels, entrypoint, cmd), FROM scratch, and copies the same files
// to the same places; its build stage builds the binary as `make image`
// does, with the Go of go.mod.
func TestDockerfileDeclaresTheImage(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	df, err := parseDockerfile(f)
	if err != nil {
		t.Fatal(err)
	}
	const version, revision = "v9.8.7", "0123456789abcdef0123456789abcdef01234567"
	got, copies, err := df.finalStage(map[string]string{"VERSION": version, "REVISION": revision})
	if err != nil {
		t.Fatal(err)
	}
	want := image.Declared(version, revision)
	if !got.Equal(want) {
		t.Errorf("the Dockerfile declares\n%+v\nthe builder\n%+v", got, want)
	}
	if from := df.stages[len(df.stages)-1].from; from != "scratch" {
		t.Errorf("final stage FROM %s, want scratch (the builder starts from an empty image)", from)
	}

	// The files: where each COPY puts what (destination, source stage, owner).
	type placed struct{ from, chown string }
	at := map[string]placed{}
	for _, c := range copies {
		for _, src := range c.srcs {
			dst := c.dst
			if strings.HasSuffix(dst, "/") {
				dst += filepath.Base(src)
			}
			at[dst] = placed{c.from, c.chown}
		}
	}
	wantAt := map[string]placed{
		"/etc/passwd":     {"", ""},
		"/etc/group":      {"", ""},
		image.CACertsPath: {"base", ""},
		image.ZoneinfoDir: {"base", ""},
		image.WorkDir:     {"build", "65532:65532"},
		image.BinaryPath:  {"build", ""},
	}
	for dst, w := range wantAt {
		if g, ok := at[dst]; !ok || g != w {
			t.Errorf("COPY to %s: %+v (present %v), want %+v", dst, g, ok, w)
		}
		delete(at, dst)
	}
	for dst := range at {
		t.Errorf("COPY to %s: the builder puts nothing there", dst)
	}
	// passwd and group are copied from where the builder embeds them.
	for _, c := range copies {
		if c.from == "" && !slices.Equal(c.srcs, []string{"internal/image/rootfs/etc/passwd", "internal/image/rootfs/etc/group"}) {
			t.Errorf("COPY %v from the context: want internal/image/rootfs/etc/{passwd,group}", c.srcs)
		}
	}

	// The build stage: static, trimmed, stamped as the Makefile's LDFLAGS.
	var build *dfStage
	for i := range df.stages {
		if df.stages[i].name == "build" {
			build = &df.stages[i]
		}
	}
	if build == nil {
		t.Fatal("no stage named build")
	}
	var run string
	for _, in := range build.instrs {
		if in.cmd == "RUN" && strings.Contains(in.rest, "go build") {
			run = in.rest
		}
	}
	for _, w := range []string{"CGO_ENABLED=0", "GOOS=linux", "-trimpath", "-s -w",
		"-X github.com/smscode/smscode/internal/buildinfo.version=${VERSION}",
		"-X github.com/smscode/smscode/internal/buildinfo.revision=${REVISION}",
		"./cmd/smscode"} {
		if !strings.Contains(run, w) {
			t.Errorf("the build stage's go build lacks %q:\n%s", w, run)
		}
	}
	globals, err := df.globals(nil)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if globals["GO_VERSION"] != string(m[1]) {
		t.Errorf("Dockerfile GO_VERSION %q, go.mod's go %s", globals["GO_VERSION"], m[1])
	}
	if !strings.HasPrefix(build.from, "golang:${GO_VERSION}") {
		t.Errorf("build stage FROM %s: want golang:${GO_VERSION}-...", build.from)
	}
}

// TestParseDockerfile checks the reader on the forms it must understand,
// and that it refuses the ones it does not rather than misread them.
func TestParseDockerfile(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		args    map[string]string
		want    image.Spec
		wantErr string
	}{
		{
			// As Docker, an ENV expands with the values from before it: Q gets
			// the old P.
			name: "continuations, comments, quotes and variables",
			text: "ARG G=1\nFROM x AS a\nFROM scratch\nARG V=dev\nARG G\n# comment\nLABEL a=\"x y\" \\\n  # inside\n  b=${V}-$G c='$V'\nENV P=/bin\nENV P=/usr Q=\"$P:/x\"\nUSER 1:2\nWORKDIR /w\nEXPOSE 80 53/udp\nENTRYPOINT [\"/e\"]\nCMD [\"-a\", \"b c\"]\n",
			args: map[string]string{"V": "v1"},
			want: image.Spec{
				User: "1:2", WorkingDir: "/w", Entrypoint: []string{"/e"}, Cmd: []string{"-a", "b c"},
				Env: []string{"P=/usr", "Q=/bin:/x"}, ExposedPorts: []string{"80/tcp", "53/udp"},
				Labels: map[string]string{"a": "x y", "b": "v1-1", "c": "$V"},
			},
		},
		{
			name: "a later ENTRYPOINT resets CMD",
			text: "FROM scratch\nCMD [\"-x\"]\nENTRYPOINT [\"/e\"]\n",
			want: image.Spec{Entrypoint: []string{"/e"}, Labels: map[string]string{}},
		},
		{name: "shell form", text: "FROM scratch\nENTRYPOINT /e -x\n", wantErr: "exec (JSON) form"},
		{name: "RUN in the final stage", text: "FROM scratch\nRUN true\n", wantErr: "not expected"},
		{name: "a modifier", text: "FROM scratch\nLABEL a=${V:-x}\n", wantErr: "only plain"},
		{name: "unterminated quote", text: "FROM scratch\nLABEL a=\"x\n", wantErr: "unterminated"},
		{name: "no FROM", text: "ARG A\n", wantErr: "no FROM"},
		{name: "instruction before FROM", text: "LABEL a=b\nFROM scratch\n", wantErr: "before the first FROM"},
		{name: "dangling continuation", text: "FROM scratch\nLABEL a=b \\\n", wantErr: "continuation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got image.Spec
			df, err := parseDockerfile(strings.NewReader(tt.text))
			if err == nil {
				got, _, err = df.finalStage(tt.args)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}
