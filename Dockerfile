# syntax=docker/dockerfile:1
# Go as in go.mod; the build is static (CGO_ENABLED=0: SQLite is pure Go).
FROM golang:1.26.8-trixie AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The context has no .git (.dockerignore), so give the version here:
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/stepgate/stepgate/internal/cli.version=${VERSION}" -o /out/stepgate ./cmd/stepgate \
    && mkdir -p /out/data

# Distroless has no version tags beyond the Debian release; pin the digest
# (static-debian12:nonroot@sha256:…) where a build must be reproducible.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/stepgate /stepgate
# The data directory (SQLite database, dev master key, dev outbox), owned by
# the nonroot user (65532) the server runs as.
COPY --from=build --chown=65532:65532 /out/data /data
ENV STEPGATE_DATA_DIR=/data
VOLUME /data
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/stepgate"]
CMD ["serve"]
