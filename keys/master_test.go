package keys_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/keys"
)

func TestParseMasterKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32) // 0xfb makes std and url alphabets differ
	std := base64.StdEncoding.EncodeToString(raw)
	rawURL := base64.RawURLEncoding.EncodeToString(raw)
	for _, tc := range []struct {
		name    string
		in      string
		wantErr string
	}{
		{"standard base64 of 32 bytes is accepted", std, ""},
		{"raw URL base64 of 32 bytes is accepted", rawURL, ""},
		{"surrounding whitespace and newline are trimmed", "  " + std + "\n", ""},
		{"16 bytes are rejected", base64.StdEncoding.EncodeToString(raw[:16]), "is 16 bytes, want 32"},
		{"64 bytes are rejected", base64.StdEncoding.EncodeToString(append(raw, raw...)), "is 64 bytes, want 32"},
		{"a hex key is rejected", fmt.Sprintf("%x", raw), "want 32"},
		{"text that is not base64 is rejected", "correct horse battery staple!", "not valid base64"},
		{"an empty value is rejected", " \n", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := keys.ParseMasterKey(tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseMasterKey: %v", err)
				}
				want, _ := keys.NewMasterKey(raw)
				if !sameMasterKey(t, k, want) {
					t.Fatal("parsed key differs from the encoded bytes")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if trimmed := strings.TrimSpace(tc.in); trimmed != "" && strings.Contains(err.Error(), trimmed) {
				t.Fatalf("error %q repeats the key material", err)
			}
		})
	}
}

func TestLoadMasterKey(t *testing.T) {
	keyA, keyB := newEncodedMasterKey(), newEncodedMasterKey()
	parsedA, _ := keys.ParseMasterKey(keyA)
	parsedB, _ := keys.ParseMasterKey(keyB)

	writeKey := func(t *testing.T, content string, perm os.FileMode) string {
		p := filepath.Join(t.TempDir(), "master.key")
		if err := os.WriteFile(p, []byte(content), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, perm); err != nil { // umask-proof
			t.Fatal(err)
		}
		return p
	}
	load := func(t *testing.T, src keys.MasterKeySource) (*keys.MasterKey, string, error) {
		var logs bytes.Buffer
		k, err := keys.LoadMasterKey(src, slog.New(slog.NewTextHandler(&logs, nil)))
		return k, logs.String(), err
	}

	t.Run("the key file wins over STEPGATE_MASTER_KEY", func(t *testing.T) {
		k, _, err := load(t, keys.MasterKeySource{File: writeKey(t, keyA+"\n", 0o600), Value: keyB})
		if err != nil || !sameMasterKey(t, k, parsedA) {
			t.Fatalf("got %v, %v; want key A", k, err)
		}
	})
	t.Run("STEPGATE_MASTER_KEY is used without a key file, even in dev", func(t *testing.T) {
		dir := t.TempDir()
		k, _, err := load(t, keys.MasterKeySource{Value: keyB, Dev: true, DataDir: dir})
		if err != nil || !sameMasterKey(t, k, parsedB) {
			t.Fatalf("got %v, %v; want key B", k, err)
		}
		if _, err := os.Stat(filepath.Join(dir, keys.DevMasterKeyFile)); !os.IsNotExist(err) {
			t.Fatal("a dev key file was created although a key was given")
		}
	})
	t.Run("no source outside dev is an error naming the options", func(t *testing.T) {
		_, _, err := load(t, keys.MasterKeySource{DataDir: t.TempDir()})
		want := "no master key: set --master-key-file or STEPGATE_MASTER_KEY (or use --dev)"
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v, want %q", err, want)
		}
	})
	t.Run("a malformed STEPGATE_MASTER_KEY is an error naming the variable", func(t *testing.T) {
		_, _, err := load(t, keys.MasterKeySource{Value: "short"})
		if err == nil || !strings.Contains(err.Error(), "STEPGATE_MASTER_KEY") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a malformed key file is an error naming the file, not its content", func(t *testing.T) {
		p := writeKey(t, "c2hvcnQ=\n", 0o600)
		_, _, err := load(t, keys.MasterKeySource{File: p})
		if err == nil || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "c2hvcnQ") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a missing key file is an error, not a fallback", func(t *testing.T) {
		_, _, err := load(t, keys.MasterKeySource{File: filepath.Join(t.TempDir(), "nope"), Value: keyB, Dev: true, DataDir: t.TempDir()})
		if err == nil {
			t.Fatal("missing key file accepted")
		}
	})
	t.Run("a key file readable by others warns outside dev but loads", func(t *testing.T) {
		k, logs, err := load(t, keys.MasterKeySource{File: writeKey(t, keyA, 0o644)})
		if err != nil || !sameMasterKey(t, k, parsedA) {
			t.Fatalf("got %v, %v", k, err)
		}
		if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "chmod 600") {
			t.Fatalf("no permission warning in logs: %s", logs)
		}
	})
	t.Run("a 0600 key file loads without warning", func(t *testing.T) {
		_, logs, err := load(t, keys.MasterKeySource{File: writeKey(t, keyA, 0o600)})
		if err != nil || logs != "" {
			t.Fatalf("err = %v, logs = %q", err, logs)
		}
	})
	t.Run("dev mode creates <data-dir>/master.key with mode 0600 and warns", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data") // not there yet
		k, logs, err := load(t, keys.MasterKeySource{Dev: true, DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, keys.DevMasterKeyFile)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode = %#o, want 0600", fi.Mode().Perm())
		}
		if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, p) {
			t.Fatalf("no dev warning in logs: %s", logs)
		}
		fromFile, _, err := load(t, keys.MasterKeySource{File: p})
		if err != nil || !sameMasterKey(t, k, fromFile) {
			t.Fatalf("the file does not hold the returned key: %v", err)
		}

		t.Run("and reuses it on the next start", func(t *testing.T) {
			before, _ := os.ReadFile(p)
			again, logs, err := load(t, keys.MasterKeySource{Dev: true, DataDir: dir})
			if err != nil || !sameMasterKey(t, k, again) {
				t.Fatalf("second load gave another key: %v", err)
			}
			if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
				t.Fatal("master.key was rewritten")
			}
			if !strings.Contains(logs, "level=WARN") {
				t.Fatalf("no dev warning on reuse: %s", logs)
			}
		})
	})
	t.Run("dev mode never replaces a malformed master.key", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, keys.DevMasterKeyFile)
		os.WriteFile(p, []byte("garbage"), 0o600)
		if _, _, err := load(t, keys.MasterKeySource{Dev: true, DataDir: dir}); err == nil {
			t.Fatal("malformed dev key accepted")
		}
		if b, _ := os.ReadFile(p); string(b) != "garbage" {
			t.Fatal("malformed dev key was overwritten")
		}
	})
	t.Run("the key never appears in formatted output or logs", func(t *testing.T) {
		var logs bytes.Buffer
		slog.New(slog.NewTextHandler(&logs, nil)).Info("loaded", "key", parsedA)
		out := fmt.Sprintf("%v %+v %#v %s %x %q %+v", parsedA, parsedA, parsedA, parsedA, parsedA, parsedA, *parsedA) + logs.String()
		if strings.Contains(out, keyA) || !strings.Contains(out, "redacted") {
			t.Fatalf("formatted key: %s", out)
		}
	})
}

// sameMasterKey reports whether a opens what b seals.
func sameMasterKey(t *testing.T, a, b *keys.MasterKey) bool {
	t.Helper()
	if a == nil || b == nil {
		return false
	}
	sealed, err := b.Seal([]byte("probe"), []byte("test"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Open(sealed, []byte("test"))
	return err == nil
}
