package mfa

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// NewEmailCode reads a six-digit code from r, every value from 000000 to
// 999999 equally likely.
func NewEmailCode(r io.Reader) (string, error) {
	const n = 1_000_000
	// Values at or above limit are drawn again: taking them modulo n would
	// make the low codes slightly more likely than the rest.
	const limit = (1 << 32) / n * n
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("mfa: reading email code: %w", err)
		}
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return fmt.Sprintf("%06d", v%n), nil
		}
	}
}

// HashCode is the keyed hash (HMAC-SHA-256, hex) under which a code is
// stored. Six digits are a million guesses away from any plain hash; with a
// server-side key, a copy of the database alone reveals nothing.
func HashCode(key []byte, code string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// CodesEqual compares two codes or code hashes in constant time.
func CodesEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Backup codes are 16 symbols of Crockford's base32 alphabet, which leaves
// out I, L, O and U, written in groups of four: "7KQ2-M9XA-0DFR-3TZB".
// 16 symbols of 5 bits are 80 bits of entropy.
const (
	BackupCodeCount = 10 // codes per set
	backupAlphabet  = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	backupSymbols   = 16
	backupGroup     = 4
	maxBackupCodes  = 100
)

// NewBackupCodes reads n distinct backup codes from r, formatted for
// display.
func NewBackupCodes(r io.Reader, n int) ([]string, error) {
	if n < 1 || n > maxBackupCodes {
		return nil, fmt.Errorf("mfa: backup code count %d outside 1..%d", n, maxBackupCodes)
	}
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	var raw [backupSymbols * 5 / 8]byte
	for len(codes) < n {
		if _, err := io.ReadFull(r, raw[:]); err != nil {
			return nil, fmt.Errorf("mfa: reading backup code: %w", err)
		}
		code := formatBackupCode(encodeBackupSymbols(raw))
		if seen[code] {
			continue // a broken reader, not chance: 2^-80
		}
		seen[code] = true
		codes = append(codes, code)
	}
	return codes, nil
}

// encodeBackupSymbols spells 80 bits as 16 symbols; 32 is a power of two,
// so every symbol is uniform.
func encodeBackupSymbols(raw [10]byte) string {
	var bits uint64
	var have uint
	out := make([]byte, 0, backupSymbols)
	for _, c := range raw {
		bits = bits<<8 | uint64(c)
		have += 8
		for have >= 5 {
			have -= 5
			out = append(out, backupAlphabet[(bits>>have)&31])
		}
	}
	return string(out)
}

func formatBackupCode(symbols string) string {
	var b strings.Builder
	for i := 0; i < len(symbols); i += backupGroup {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(symbols[i : i+backupGroup])
	}
	return b.String()
}

// NormalizeBackupCode reads a backup code as typed: any case, with or
// without dashes and spaces, and with the letters Crockford's alphabet
// reads as digits (O as 0; I and L as 1). It returns the 16 symbols in
// upper case without separators, the form that is hashed.
func NormalizeBackupCode(input string) (string, bool) {
	if len(input) > 64 {
		return "", false
	}
	out := make([]byte, 0, backupSymbols)
	for i := 0; i < len(input); i++ {
		c := input[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		switch c {
		case '-', ' ', '\t':
			continue
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		if strings.IndexByte(backupAlphabet, c) < 0 || len(out) == backupSymbols {
			return "", false
		}
		out = append(out, c)
	}
	if len(out) != backupSymbols {
		return "", false
	}
	return string(out), true
}

// HashBackupCode normalizes a backup code, as generated or as typed, and
// returns its HashCode.
func HashBackupCode(key []byte, input string) (string, bool) {
	code, ok := NormalizeBackupCode(input)
	if !ok {
		return "", false
	}
	return HashCode(key, code), true
}
