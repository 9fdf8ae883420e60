// Command mkimage builds smscode's OCI image tarball from a static binary,
// without a Docker daemon (package internal/image). `make image` runs it:
//
//	go run ./internal/tools/mkimage -binary build/smscode-linux-amd64 -arch amd64 \
//	    -version v1.2.3 -revision abc123 -out build/smscode-image.tar
//
// SOURCE_DATE_EPOCH (Unix seconds), when set, is the timestamp of the image
// and of every file in it, so that a commit always gives the same digest.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/smscode/smscode/internal/image"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	binary := fs.String("binary", "", "the static linux smscode binary (required)")
	arch := fs.String("arch", "amd64", "GOARCH the binary was built for")
	sysroot := fs.String("sysroot", "/", "root the CA certificates and zoneinfo (Debian's ca-certificates and tzdata) are read from")
	version := fs.String("version", "devel", "version for the OCI labels (the Makefile's VERSION)")
	revision := fs.String("revision", "unknown", "VCS revision for the OCI labels (the Makefile's REVISION)")
	tag := fs.String("tag", "", "image reference in the tarball; default smscode:VERSION")
	out := fs.String("out", "build/smscode-image.tar", "the tarball to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *binary == "" {
		return fmt.Errorf("-binary is required")
	}
	created := time.Unix(0, 0)
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
		}
		created = time.Unix(sec, 0)
	}
	if *tag == "" {
		*tag = "smscode:" + *version
	}
	img, err := image.Build(image.Options{
		Binary: *binary, Arch: *arch, SysRoot: *sysroot,
		Version: *version, Revision: *revision, Created: created,
	})
	if err != nil {
		return err
	}
	if err := image.WriteTarball(*out, img, *tag, created); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Printf("mkimage: %s: %s, %s, %.1f MB\n", *out, *tag, digest, float64(st.Size())/1e6)
	return nil
}
