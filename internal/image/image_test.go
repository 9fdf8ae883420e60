package image_test

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/smscode/smscode/internal/image"
	"github.com/smscode/smscode/internal/testutil"
)

const (
	testVersion  = "v0.0.0-imagetest"
	testRevision = "feedfacefeedfacefeedfacefeedfacefeedface"
)

// buildBinary builds cmd/smscode as `make image` does (static, trimmed,
// stamped) into a temporary directory. With `make image` run before (CI
// does), only the link step is not cached: a few seconds.
func buildBinary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary is built for linux and run here")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the binary: %v", err)
	}
	out := filepath.Join(t.TempDir(), "smscode")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath",
		"-ldflags", "-s -w -X github.com/smscode/smscode/internal/buildinfo.version="+testVersion+
			" -X github.com/smscode/smscode/internal/buildinfo.revision="+testRevision,
		"-o", out, "github.com/smscode/smscode/cmd/smscode")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	t.Logf("go build: %s", time.Since(start).Round(time.Millisecond))
	return out
}

// TestImage builds the image tarball from a freshly built binary, reads it
// back as crane and `docker load` do (manifest.json) and as an OCI layout
// (index.json), checks its config, unpacks its file system and runs the
// binary from it on the embedded defaults with the image's CMD (its
// addresses moved to free loopback ports) until GET /healthz answers 200
// and the metrics listener answers; then stops it with SIGTERM. As root,
// the binary runs chrooted in the unpacked root as the image's user, so
// the paths, the owner of the working directory and the non-root user are
// the image's own.
func TestImage(t *testing.T) {
	bin := buildBinary(t)
	start := time.Now()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	built, err := image.Build(image.Options{Binary: bin, Arch: runtime.GOARCH, Version: testVersion, Revision: testRevision, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tarPath := filepath.Join(dir, "smscode-image.tar")
	if err := image.WriteTarball(tarPath, built, "smscode:"+testVersion, created); err != nil {
		t.Fatal(err)
	}
	t.Logf("image built and written: %s", time.Since(start).Round(time.Millisecond))
	st, err := os.Stat(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tarball: %.1f MB", float64(st.Size())/1e6)

	// The same image through both doors of the archive.
	img, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatalf("as docker load / crane read it (manifest.json): %v", err)
	}
	// manifest.json carries no manifest (docker load makes its own): the
	// config and the layers must be the built image's, byte for byte.
	if got, want := configName(t, img), configName(t, built); got != want {
		t.Errorf("manifest.json's config %s, the built one %s", got, want)
	}
	if got, want := layerDigests(t, img), layerDigests(t, built); !slices.Equal(got, want) {
		t.Errorf("manifest.json's layers %v, the built ones %v", got, want)
	}
	wantDigest := digestOf(t, built)
	ociDir := filepath.Join(dir, "oci")
	untar(t, tarPath, ociDir)
	idx, err := layout.ImageIndexFromPath(ociDir)
	if err != nil {
		t.Fatalf("as an OCI layout: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != wantDigest ||
		im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != testVersion {
		t.Errorf("index.json: %+v, want one manifest %s named %s", im.Manifests, wantDigest, testVersion)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, cf, created)

	root := filepath.Join(dir, "root")
	start = time.Now()
	owners := extract(t, img, root)
	checkRoot(t, root, owners)
	t.Logf("unpacked and checked: %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	runFromRoot(t, root, cf.Config)
	t.Logf("ran until /healthz answered, then stopped: %s", time.Since(start).Round(time.Millisecond))
	if os.Geteuid() != 0 {
		// What ran proves the binary and its files work from the unpacked
		// root, not that the image's user can run it in its own root: say
		// so in make test's summary (CI runs as root and requires it).
		testutil.SkipGroup(t, "root (the image test's chroot as uid 65532)", "SMSCODE_REQUIRE_ROOT",
			"run the tests as root, as CI does", "not root: the binary ran from the unpacked root as the host user, without chroot")
	}
}

func configName(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func layerDigests(t *testing.T, img v1.Image) []v1.Hash {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var ds []v1.Hash
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	return ds
}

func digestOf(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkConfig checks the config against what an operator relies on, not
// only against image.Declared (which the Dockerfile test compares).
func checkConfig(t *testing.T, cf *v1.ConfigFile, created time.Time) {
	t.Helper()
	c := cf.Config
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s, want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
	}
	if !cf.Created.Time.Equal(created) {
		t.Errorf("created %s, want the fixed %s", cf.Created.Time, created)
	}
	uid, gid, ok := strings.Cut(c.User, ":")
	if !ok || uid != fmt.Sprint(image.UID) || gid != fmt.Sprint(image.GID) || uid == "0" {
		t.Errorf("user %q, want numeric non-root %d:%d", c.User, image.UID, image.GID)
	}
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/smscode"}) {
		t.Errorf("entrypoint %q", c.Entrypoint)
	}
	if !slices.Contains(c.Cmd, "0.0.0.0:8080") {
		t.Errorf("cmd %q: the API must listen on every interface, port 8080", c.Cmd)
	}
	for _, p := range []string{"8080/tcp", "9090/tcp"} {
		if _, ok := c.ExposedPorts[p]; !ok {
			t.Errorf("port %s not exposed: %v", p, c.ExposedPorts)
		}
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.version":  testVersion,
		"org.opencontainers.image.revision": testRevision,
		"org.opencontainers.image.title":    "smscode",
		"org.opencontainers.image.source":   image.Source,
	} {
		if got := c.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if c.WorkingDir != image.WorkDir {
		t.Errorf("working dir %q", c.WorkingDir)
	}
	if got := (image.Spec{User: c.User, WorkingDir: c.WorkingDir, Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env,
		ExposedPorts: keys(c.ExposedPorts), Labels: c.Labels}); !got.Equal(image.Declared(testVersion, testRevision)) {
		t.Errorf("config %+v is not image.Declared", got)
	}
	if len(cf.History) != len(cf.RootFS.DiffIDs) {
		t.Errorf("%d history entries for %d layers", len(cf.History), len(cf.RootFS.DiffIDs))
	}
}

func keys(m map[string]struct{}) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// extract unpacks the image's flattened file system (mutate.Extract) into
// root, keeping modes (and owners, as root); it returns each entry's
// uid:gid as the image records it.
func extract(t *testing.T, img v1.Image, root string) map[string]string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	owners := map[string]string{}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's parents are 0700: the chrooted user must be able to enter /.
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := path.Clean("/" + h.Name)
		owners[name] = fmt.Sprintf("%d:%d", h.Uid, h.Gid)
		p := filepath.Join(root, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, os.FileMode(h.Mode).Perm()); err != nil {
				t.Fatal(err)
			}
			// MkdirAll leaves an existing directory's mode (and umask trims).
			if err := os.Chmod(p, os.FileMode(h.Mode).Perm()); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		case tar.TypeSymlink:
			if path.IsAbs(h.Linkname) {
				t.Errorf("%s -> %s: an absolute link points outside the image's root here", name, h.Linkname)
				continue
			}
			if err := os.Symlink(h.Linkname, p); err != nil {
				t.Fatal(err)
			}
		default:
			t.Errorf("%s: unexpected entry type %c", name, h.Typeflag)
			continue
		}
		if os.Geteuid() == 0 {
			if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	return owners
}

// checkRoot checks the unpacked base: the user in /etc/passwd, CA
// certificates Go can load, time zones Go can load (through a link too),
// the working directory owned by the user, and nothing else at the top.
func checkRoot(t *testing.T, root string, owners map[string]string) {
	t.Helper()
	passwd, err := os.ReadFile(filepath.Join(root, "etc", "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(":x:%d:%d:", image.UID, image.GID); !strings.Contains(string(passwd), want) {
		t.Errorf("/etc/passwd has no user %s:\n%s", want, passwd)
	}
	pem, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(image.CACertsPath)))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) || strings.Count(string(pem), "BEGIN CERTIFICATE") < 50 {
		t.Errorf("%s: %d certificates, want Debian's bundle (over 50)", image.CACertsPath, strings.Count(string(pem), "BEGIN CERTIFICATE"))
	}
	zi := filepath.Join(root, filepath.FromSlash(image.ZoneinfoDir))
	for _, zone := range []string{"Asia/Shanghai", "UTC", "Europe/Berlin"} {
		b, err := os.ReadFile(filepath.Join(zi, filepath.FromSlash(zone)))
		if err != nil {
			t.Errorf("zone %s: %v", zone, err)
			continue
		}
		loc, err := time.LoadLocationFromTZData(zone, b)
		if err != nil {
			t.Errorf("zone %s: %v", zone, err)
			continue
		}
		if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Zone(); zone == "Asia/Shanghai" && off != 8*3600 {
			t.Errorf("Asia/Shanghai offset %d s, want 28800", off)
		}
	}
	if want := fmt.Sprintf("%d:%d", image.UID, image.GID); owners[image.WorkDir] != want {
		t.Errorf("%s owned by %s, want %s (dev mode writes its secret there)", image.WorkDir, owners[image.WorkDir], want)
	}
	if owners[image.BinaryPath] != "0:0" {
		t.Errorf("%s owned by %s, want root (the user must not be able to replace it)", image.BinaryPath, owners[image.BinaryPath])
	}
	top, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range top {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"etc", "usr", "var"}) {
		t.Errorf("the image's / has %v, want only etc, usr, var", names)
	}
}

// runFromRoot runs the unpacked binary with the image's entrypoint and cmd,
// the listen addresses moved to free loopback ports.
func runFromRoot(t *testing.T, root string, c v1.Config) {
	t.Helper()
	args := slices.Clone(c.Cmd)
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-addr" || args[i] == "-metrics-addr" {
			args[i+1] = "127.0.0.1:0"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The entrypoint is a path inside the image: set it as is, since
	// exec.Command would look it up on the host.
	cmd := exec.CommandContext(ctx, c.Entrypoint[0], args...)
	cmd.Err = nil
	env := []string{"SMSCODE_LOG_LEVEL=info"}
	secretFile := filepath.Join(root, filepath.FromSlash(c.WorkingDir), ".smscode", "secret")
	if os.Geteuid() == 0 {
		// The image's own paths: chroot into the root, as the image's user.
		cmd.Path = c.Entrypoint[0]
		cmd.Dir = c.WorkingDir
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Chroot:     root,
			Credential: &syscall.Credential{Uid: image.UID, Gid: image.GID},
		}
		env = append(env, c.Env...)
		t.Logf("running %s chrooted in the unpacked root as %s", c.Entrypoint[0], c.User)
	} else {
		cmd.Path = filepath.Join(root, filepath.FromSlash(c.Entrypoint[0]))
		cmd.Dir = filepath.Join(root, filepath.FromSlash(c.WorkingDir))
		env = append(env,
			"SSL_CERT_FILE="+filepath.Join(root, filepath.FromSlash(image.CACertsPath)),
			"ZONEINFO="+filepath.Join(root, filepath.FromSlash(image.ZoneinfoDir)))
		t.Logf("running %s from the unpacked root (not root: no chroot)", cmd.Path)
	}
	cmd.Env = env
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	var logTail []string
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			logTail = append(logTail, line)
			var rec struct {
				Msg         string `json:"msg"`
				Addr        string `json:"addr"`
				MetricsAddr string `json:"metrics_addr"`
			}
			if !sent && json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "smscode listening" {
				addrs <- [2]string{rec.Addr, rec.MetricsAddr}
				sent = true
			}
		}
		exited <- cmd.Wait()
	}()
	var api, metrics string
	select {
	case a := <-addrs:
		api, metrics = a[0], a[1]
	case err := <-exited:
		t.Fatalf("the binary exited before listening: %v\n%s", err, strings.Join(logTail, "\n"))
	case <-ctx.Done():
		t.Fatal("the binary did not log that it listens within 30 s")
	}

	hc := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 2 * time.Second}
	status := func(url string) int {
		res, err := hc.Get(url)
		if err != nil {
			return 0
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		return res.StatusCode
	}
	deadline := time.Now().Add(20 * time.Second)
	code := 0
	for time.Now().Before(deadline) {
		if code = status("http://" + api + "/healthz"); code == http.StatusOK {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code != http.StatusOK {
		t.Errorf("GET /healthz on %s: %d, want 200", api, code)
	}
	if metrics == "" {
		t.Errorf("the image's cmd starts no metrics listener")
	} else if code := status("http://" + metrics + "/metrics"); code != http.StatusOK {
		t.Errorf("GET /metrics on %s: %d, want 200", metrics, code)
	}
	// Dev mode (the embedded defaults) kept its generated secret in the
	// working directory: the image's user can write there.
	if fi, err := os.Stat(secretFile); err != nil {
		t.Errorf("dev-mode secret in the working directory: %v", err)
	} else if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 && st.Uid != image.UID {
		t.Errorf("the secret file is owned by uid %d: the server did not run as the image's user %d", st.Uid, image.UID)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v\n%s", err, strings.Join(logTail, "\n"))
		}
	case <-time.After(20 * time.Second):
		t.Errorf("still running 20 s after SIGTERM")
	}
}

// untar unpacks the archive file into dir (regular files and directories:
// all the image tarball has).
func untar(t *testing.T, file, dir string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(path.Clean("/"+h.Name)))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				var b []byte
				if b, err = io.ReadAll(tr); err == nil {
					err = os.WriteFile(p, b, 0o644)
				}
			}
		default:
			err = fmt.Errorf("%s: unexpected entry type %c", h.Name, h.Typeflag)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
