package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options says what to build an image of.
type Options struct {
	// Binary is the smscode binary to put in: static (CGO_ENABLED=0) and
	// built for linux/Arch.
	Binary string
	// Arch is the binary's GOARCH (amd64, arm64...). Default amd64.
	Arch string
	// SysRoot is the root of the file system the CA certificates
	// (etc/ssl/certs/ca-certificates.crt, Debian's ca-certificates) and
	// the time zones (usr/share/zoneinfo, Debian's tzdata) are read from.
	// Default "/".
	SysRoot string
	// Version and Revision are the build's (internal/buildinfo): the OCI
	// labels carry them.
	Version, Revision string
	// Created is the timestamp of the config, the history and every file,
	// so that the same inputs give the same image digest (the Makefile
	// passes the commit's time, SOURCE_DATE_EPOCH). Zero: the Unix epoch.
	Created time.Time
}

// Build assembles the image: a base layer (passwd and group, CA
// certificates, zoneinfo, the working directory) and a layer with the
// binary, with the config of Declared. Nothing is written to disk.
func Build(o Options) (v1.Image, error) {
	if o.Binary == "" {
		return nil, errors.New("image: no binary")
	}
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	if o.SysRoot == "" {
		o.SysRoot = "/"
	}
	created := o.Created.UTC()
	if o.Created.IsZero() {
		created = time.Unix(0, 0).UTC()
	}
	spec := Declared(o.Version, o.Revision)

	base := newLayer(created)
	if err := addBase(base, o.SysRoot); err != nil {
		return nil, err
	}
	app := newLayer(created)
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	app.file(BinaryPath, bin, 0o755, 0, 0)

	var adds []mutate.Addendum
	for _, l := range []struct {
		b  *layerBuilder
		by string
	}{
		{base, "smscode base: passwd, group, ca-certificates, tzdata, " + WorkDir},
		{app, "smscode binary " + BinaryPath},
	} {
		layer, err := l.b.layer()
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.Addendum{
			Layer:   layer,
			History: v1.History{Created: v1.Time{Time: created}, CreatedBy: l.by, Comment: "internal/image"},
		})
	}

	ports := map[string]struct{}{}
	for _, p := range spec.ExposedPorts {
		ports[p] = struct{}{}
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: o.Arch,
		OS:           "linux",
		Created:      v1.Time{Time: created},
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			User:         spec.User,
			WorkingDir:   spec.WorkingDir,
			Entrypoint:   spec.Entrypoint,
			Cmd:          spec.Cmd,
			Env:          spec.Env,
			ExposedPorts: ports,
			Labels:       spec.Labels,
		},
	})
	if err != nil {
		return nil, err
	}
	if img, err = mutate.Append(img, adds...); err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	return img, nil
}

// addBase puts the minimal base in l: what a static Go server needs from a
// distribution and nothing else (no shell, no package manager).
func addBase(l *layerBuilder, sysroot string) error {
	for _, name := range []string{"passwd", "group"} {
		b, err := etcFiles.ReadFile("rootfs/etc/" + name)
		if err != nil {
			return err
		}
		l.file("/etc/"+name, b, 0o644, 0, 0)
	}
	certs, err := os.ReadFile(filepath.Join(sysroot, CACertsPath))
	if err != nil {
		return fmt.Errorf("image: CA certificates (Debian's ca-certificates package): %w", err)
	}
	l.file(CACertsPath, certs, 0o644, 0, 0)
	if err := l.tree(filepath.Join(sysroot, ZoneinfoDir), ZoneinfoDir); err != nil {
		return fmt.Errorf("image: time zones (Debian's tzdata package): %w", err)
	}
	l.dir(WorkDir, 0o755, UID, GID)
	return nil
}

// layerBuilder collects the entries of one layer; layer() writes them as a
// tar, parents before children and in name order, every entry with the same
// timestamp, so that the bytes depend on the contents only.
type layerBuilder struct {
	created time.Time
	entries map[string]entry
}

type entry struct {
	hdr  tar.Header
	data []byte
}

func newLayer(created time.Time) *layerBuilder {
	return &layerBuilder{created: created, entries: map[string]entry{}}
}

// parents adds the directories above name (root-owned, 0755), as
// `COPY` makes them.
func (l *layerBuilder) parents(name string) {
	for d := path.Dir(name); d != "/" && d != "."; d = path.Dir(d) {
		if _, ok := l.entries[d]; !ok {
			l.dir(d, 0o755, 0, 0)
		}
	}
}

func (l *layerBuilder) dir(name string, mode int64, uid, gid int) {
	l.parents(name)
	l.entries[name] = entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, Uid: uid, Gid: gid}}
}

func (l *layerBuilder) file(name string, data []byte, mode int64, uid, gid int) {
	l.parents(name)
	l.entries[name] = entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Uid: uid, Gid: gid, Size: int64(len(data))}, data: data}
}

func (l *layerBuilder) symlink(name, target string) {
	l.parents(name)
	l.entries[name] = entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

// tree copies the directory src to dst: directories, regular files and the
// relative symbolic links between zones (US/Eastern -> ../America/New_York).
// An absolute link is left out: Debian's zoneinfo/localtime points to
// /etc/localtime, which the image does not have (the Dockerfile deletes it
// the same way).
func (l *layerBuilder) tree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := path.Join(dst, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			l.dir(name, 0o755, 0, 0)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if !path.IsAbs(target) {
				l.symlink(name, target)
			}
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			l.file(name, b, 0o644, 0, 0)
		}
		return nil
	})
}

// layer writes the tar, gzips it (no name, no time in the gzip header) and
// hands the bytes to go-containerregistry, which computes the digest and
// diff ID.
func (l *layerBuilder) layer() (v1.Layer, error) {
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range l.entries {
			if !yield(n) {
				return
			}
		}
	})
	var raw bytes.Buffer
	gz, err := gzip.NewWriterLevel(&raw, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	for _, n := range names {
		e := l.entries[n]
		h := e.hdr
		// Layer tars name entries relative to the root (usr/local/bin/smscode),
		// directories with a trailing slash.
		h.Name = strings.TrimPrefix(n, "/")
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		h.ModTime = l.created
		if err := tw.WriteHeader(&h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	b := raw.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
