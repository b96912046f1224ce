package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/crypto/hkdf"
)

// MasterKeyEnv is the environment variable the caller reads the master key
// from. The package never reads the environment itself.
const MasterKeyEnv = "STEPGATE_MASTER_KEY"

// DevMasterKeyFile is the name of the generated master key file in the data
// directory in development mode.
const DevMasterKeyFile = "master.key"

// MasterKeySize is the length of a master key: 32 random bytes (AES-256).
const MasterKeySize = 32

// maxKeyFileSize bounds what is read from a key file: a base64 key with a
// newline is 45 bytes, so anything much larger is the wrong file.
const maxKeyFileSize = 1024

// MasterKey seals secrets at rest (signing keys, TOTP seeds) and derives
// sub-keys. It never prints its bytes: String, GoString and LogValue are
// redacted.
type MasterKey struct {
	aead cipher.AEAD
	root [MasterKeySize]byte
}

// MasterKeySource is where the master key may come from, in order of
// precedence: File, then Value, then (only with Dev) a generated file in
// DataDir.
type MasterKeySource struct {
	File    string // --master-key-file
	Value   string // the STEPGATE_MASTER_KEY value, as read by the caller
	Dev     bool   // --dev: generate <DataDir>/master.key if nothing else is set
	DataDir string // --data-dir
}

// LoadMasterKey finds the master key. It warns (via log; nil means
// slog.Default) when a key file outside dev mode can be read by others, and
// whenever the generated development key is used.
func LoadMasterKey(src MasterKeySource, log *slog.Logger) (*MasterKey, error) {
	if log == nil {
		log = slog.Default()
	}
	switch {
	case src.File != "":
		k, perm, err := readMasterKeyFile(src.File)
		if err != nil {
			return nil, err
		}
		if !src.Dev && runtime.GOOS != "windows" && perm&^0o600 != 0 {
			log.Warn("master key file is accessible to other users; restrict it with chmod 600",
				"path", src.File, "mode", fmt.Sprintf("%#o", perm))
		}
		return k, nil
	case src.Value != "":
		k, err := ParseMasterKey(src.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", MasterKeyEnv, err)
		}
		return k, nil
	case src.Dev:
		return loadDevMasterKey(src.DataDir, log)
	default:
		return nil, errors.New("no master key: set --master-key-file or STEPGATE_MASTER_KEY (or use --dev)")
	}
}

// ParseMasterKey reads a master key written as base64 (standard or URL
// alphabet, padded or not) of exactly 32 bytes. Surrounding whitespace is
// ignored. Errors never contain the input.
func ParseMasterKey(s string) (*MasterKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("master key is empty")
	}
	decodedLen := -1
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) == MasterKeySize {
			return NewMasterKey(b)
		}
		decodedLen = len(b)
	}
	if decodedLen >= 0 {
		return nil, fmt.Errorf("master key is %d bytes, want %d (generate one with: openssl rand -base64 32)", decodedLen, MasterKeySize)
	}
	return nil, errors.New("master key is not valid base64 of 32 bytes (generate one with: openssl rand -base64 32)")
}

// NewMasterKey makes a master key from 32 raw bytes.
func NewMasterKey(raw []byte) (*MasterKey, error) {
	if len(raw) != MasterKeySize {
		return nil, fmt.Errorf("master key is %d bytes, want %d", len(raw), MasterKeySize)
	}
	k := &MasterKey{}
	copy(k.root[:], raw)
	block, err := aes.NewCipher(k.derive(sealInfo))
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return k, nil
}

// generateMasterKey returns a new random master key, base64-encoded, as
// LoadMasterKey and ParseMasterKey accept it.
func generateMasterKey() string {
	b := make([]byte, MasterKeySize)
	rand.Read(b) // never returns an error; it crashes the program instead
	return base64.StdEncoding.EncodeToString(b)
}

// String, Format and LogValue keep the key out of logs and error messages,
// whatever verb or logger prints it (value receivers: a dereferenced key is
// redacted too).
func (MasterKey) String() string               { return "MasterKey(redacted)" }
func (k MasterKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }
func (MasterKey) LogValue() slog.Value         { return slog.StringValue("redacted") }

// derive is HKDF-SHA256 over the master key with info as the context.
func (k *MasterKey) derive(info string) []byte {
	out := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, k.root[:], nil, []byte(info)), out); err != nil {
		panic("keys: hkdf: " + err.Error()) // only for outputs longer than 255 hashes
	}
	return out
}

func readMasterKeyFile(path string) (*MasterKey, fs.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("master key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("master key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("master key file %s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, 0, fmt.Errorf("master key file: %w", err)
	}
	if len(b) > maxKeyFileSize {
		return nil, 0, fmt.Errorf("master key file %s: too large to be a master key", path)
	}
	k, err := ParseMasterKey(string(b))
	if err != nil {
		return nil, 0, fmt.Errorf("master key file %s: %w", path, err)
	}
	return k, fi.Mode().Perm(), nil
}

// loadDevMasterKey reuses <dir>/master.key or creates it. Losing that file
// makes every sealed secret in the database unreadable, hence the warning.
func loadDevMasterKey(dir string, log *slog.Logger) (*MasterKey, error) {
	if dir == "" {
		return nil, errors.New("no master key: --dev needs a data directory for the generated master key")
	}
	path := filepath.Join(dir, DevMasterKeyFile)
	k, _, err := readMasterKeyFile(path)
	if err == nil {
		log.Warn("development mode: using the generated master key; do not use it in production", "path", path)
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err // an unreadable or malformed key is never replaced
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	encoded := generateMasterKey()
	// O_EXCL: if another process created the file meanwhile, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadDevMasterKey(dir, log)
	}
	if err != nil {
		return nil, fmt.Errorf("create dev master key: %w", err)
	}
	_, werr := f.WriteString(encoded + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write dev master key: %w", werr)
	}
	log.Warn("development mode: generated a master key; keep this file, without it sealed secrets cannot be read; do not use it in production", "path", path)
	return ParseMasterKey(encoded)
}
