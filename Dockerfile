# syntax=docker/dockerfile:1
#
# The same image that `make image` builds without Docker (internal/image):
# a static binary on a base of Debian's CA certificates and tzdata, a
# non-root user, nothing else. internal/image's tests hold this file to the
# builder's config (USER, WORKDIR, ENV, EXPOSE, LABEL, ENTRYPOINT, CMD and
# the files copied), so change both together.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) \
#       --build-arg REVISION=$(git rev-parse HEAD) -t smscode .

# go.mod's go directive (a test compares them).
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG REVISION=unknown
ARG TARGETARCH
# The Makefile's LDFLAGS: stripped, version and revision stamped into internal/buildinfo.
RUN CGO_ENABLED=0 GOOS=linux GOARCH=${TARGETARCH} go build -trimpath \
        -ldflags "-s -w -X github.com/smscode/smscode/internal/buildinfo.version=${VERSION} -X github.com/smscode/smscode/internal/buildinfo.revision=${REVISION}" \
        -o /out/smscode ./cmd/smscode \
    && mkdir -p /out/workdir

FROM debian:bookworm-slim AS base
# Debian's packages, as `make image` takes them from the machine. zoneinfo's
# only absolute link (localtime -> /etc/localtime) would dangle in the image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && find /usr/share/zoneinfo -type l -lname '/*' -delete

FROM scratch
ARG VERSION=devel
ARG REVISION=unknown
COPY internal/image/rootfs/etc/passwd internal/image/rootfs/etc/group /etc/
COPY --from=base /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=base /usr/share/zoneinfo /usr/share/zoneinfo
# Dev mode keeps its generated secret in the working directory: the user must own it.
COPY --from=build --chown=65532:65532 /out/workdir /var/lib/smscode
COPY --from=build /out/smscode /usr/local/bin/smscode
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER 65532:65532
WORKDIR /var/lib/smscode
# The API, and /metrics on its own listener (CMD's -metrics-addr).
EXPOSE 8080/tcp 9090/tcp
LABEL org.opencontainers.image.title="smscode" \
      org.opencontainers.image.description="SMS verification-code API (OneAccess-compatible)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/smscode/smscode"
ENTRYPOINT ["/usr/local/bin/smscode"]
# The embedded defaults listen on 127.0.0.1: listen on every interface. A
# `-config FILE` replaces these arguments; the file's addr decides then.
CMD ["-addr", "0.0.0.0:8080", "-metrics-addr", "0.0.0.0:9090"]
