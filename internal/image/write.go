package image

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// WriteTarball writes img to the file path as one archive that every
// common loader reads, tagged ref (smscode:v1.2.3): an OCI image layout
// (oci-layout, index.json, blobs/sha256/...) with a Docker manifest.json
// beside it naming the same blobs — the shape `docker save` has written
// since Docker 25. `docker load`, `podman load` and crane (tarball.ImageFromPath)
// read manifest.json; skopeo and containerd read it as an oci-archive.
// Every entry has the timestamp mtime, so the file depends on img only.
func WriteTarball(path string, img v1.Image, ref string, mtime time.Time) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("image: tag %q: %w", ref, err)
	}
	dir, err := os.MkdirTemp("", "smscode-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("image: OCI layout: %w", err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag.TagStr(),
		"io.containerd.image.name":          containerdName(tag),
	})); err != nil {
		return fmt.Errorf("image: OCI layout: %w", err)
	}

	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	desc := tarball.Descriptor{Config: blobPath(cfgName), RepoTags: []string{tag.String()}}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		desc.Layers = append(desc.Layers, blobPath(d))
	}
	manifest, err := json.Marshal(tarball.Manifest{desc})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o644); err != nil {
		return err
	}
	return tarDir(path, dir, mtime)
}

// containerdName is the full name containerd gives a Docker Hub image
// (docker.io/library/smscode:v1), not go-containerregistry's index.docker.io.
func containerdName(t name.Tag) string {
	if t.RegistryStr() == name.DefaultRegistry {
		return "docker.io/" + t.RepositoryStr() + ":" + t.TagStr()
	}
	return t.Name()
}

func blobPath(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// tarDir writes the files under dir to the archive path, in name order
// (filepath.WalkDir's), with fixed owners, modes and times.
func tarDir(path, dir string, mtime time.Time) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime.UTC(), Mode: 0o644, Typeflag: tar.TypeReg}
		if d.IsDir() {
			h.Name += "/"
			h.Mode = 0o755
			h.Typeflag = tar.TypeDir
			return tw.WriteHeader(h)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h.Size = int64(len(b))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
