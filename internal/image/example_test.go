package image_test

import (
	"fmt"
	"log"
	"time"

	"github.com/smscode/smscode/internal/image"
)

// Build the image of a static linux binary and write it as a tarball that
// `docker load`, `podman load` and `crane push` take, as `make image` does
// (internal/tools/mkimage).
func ExampleBuild() {
	created := time.Unix(1767225600, 0) // the commit's time: SOURCE_DATE_EPOCH
	img, err := image.Build(image.Options{
		Binary:   "build/smscode-linux-amd64", // CGO_ENABLED=0 GOOS=linux go build -trimpath ...
		Arch:     "amd64",
		Version:  "v1.2.3",
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Created:  created,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := image.WriteTarball("build/smscode-image.tar", img, "smscode:v1.2.3", created); err != nil {
		log.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("smscode:v1.2.3", digest)
}
