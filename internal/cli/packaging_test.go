package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
)

func repoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// goModVersion is the go line of go.mod, e.g. 1.26.8.
func goModVersion(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(repoFile(t, "go.mod"))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return m[1]
}

func TestPackaging(t *testing.T) {
	t.Run("LICENSE is the unmodified Apache License 2.0", func(t *testing.T) {
		// SHA-256 of https://www.apache.org/licenses/LICENSE-2.0.txt.
		const apache20 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
		sum := sha256.Sum256([]byte(repoFile(t, "LICENSE")))
		if got := hex.EncodeToString(sum[:]); got != apache20 {
			t.Errorf("LICENSE has SHA-256 %s, not that of the Apache License 2.0 text", got)
		}
	})

	t.Run("README names go.mod's Go version", func(t *testing.T) {
		if v := goModVersion(t); !strings.Contains(readme(t), "Go "+v+" or newer") {
			t.Errorf("README.md does not say it needs Go %s or newer (go.mod's go line)", v)
		}
	})

	t.Run("every image is pinned to a version", func(t *testing.T) {
		var images []string
		for _, m := range regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(repoFile(t, "Dockerfile"), -1) {
			images = append(images, m[1])
		}
		for _, m := range regexp.MustCompile(`(?m)^\s+image:\s*(\S+)`).FindAllStringSubmatch(repoFile(t, "docker-compose.yml"), -1) {
			images = append(images, m[1])
		}
		if len(images) < 4 {
			t.Fatalf("found only the images %q in Dockerfile and docker-compose.yml", images)
		}
		for _, img := range images {
			// A minor version in the tag (postgres:16.14-bookworm, not
			// postgres:16), a digest, or,
			// for distroless, which has no version tags, the Debian release
			// in the name (static-debian12:nonroot).
			ref, digest, _ := strings.Cut(img, "@sha256:")
			name, tag, ok := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
			version := regexp.MustCompile(`[0-9]+\.[0-9]+`) // 16.14, not 16
			if digest == "" && (!ok || tag == "latest" || !(version.MatchString(tag) ||
				strings.HasPrefix(ref, "gcr.io/distroless/") && regexp.MustCompile(`debian[0-9]+$`).MatchString(name))) {
				t.Errorf("image %s is not pinned to a version", img)
			}
			if name == "golang" && !strings.HasPrefix(tag, goModVersion(t)) {
				t.Errorf("the build image %s is not go.mod's Go %s", img, goModVersion(t))
			}
		}
	})

	t.Run(".dockerignore keeps data, keys and history out of the build context", func(t *testing.T) {
		lines := strings.Split(repoFile(t, ".dockerignore"), "\n")
		for _, want := range []string{".git", "data/", "master.key", "*.db", "outbox/"} {
			found := false
			for _, l := range lines {
				found = found || strings.TrimSpace(l) == want
			}
			if !found {
				t.Errorf(".dockerignore does not list %s", want)
			}
		}
	})
}
