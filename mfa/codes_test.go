package mfa

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// seeded is a deterministic random stream for distribution tests.
func seeded() *mrand.ChaCha8 {
	return mrand.NewChaCha8([32]byte{'s', 't', 'e', 'p', 'g', 'a', 't', 'e'})
}

func TestEmailCodeIsSixDigits(t *testing.T) {
	six := regexp.MustCompile(`^[0-9]{6}$`)
	for range 1000 {
		c, err := NewEmailCode(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !six.MatchString(c) {
			t.Fatalf("NewEmailCode = %q, want six digits", c)
		}
	}
}

func TestEmailCodeKeepsLeadingZeros(t *testing.T) {
	c, err := NewEmailCode(bytes.NewReader([]byte{0, 0, 0, 42}))
	if err != nil {
		t.Fatal(err)
	}
	if c != "000042" {
		t.Fatalf("NewEmailCode = %q, want 000042", c)
	}
}

func TestEmailCodeRedrawsValuesThatWouldBias(t *testing.T) {
	// 4294000000 is the first value at or above the largest multiple of a
	// million below 2^32; taking it modulo a million would favour low codes.
	var src bytes.Buffer
	for _, v := range []uint32{4294000000, 0xFFFFFFFF, 123456} {
		binary.Write(&src, binary.BigEndian, v)
	}
	c, err := NewEmailCode(&src)
	if err != nil {
		t.Fatal(err)
	}
	if c != "123456" {
		t.Fatalf("NewEmailCode = %q, want 123456 (the first unbiased value)", c)
	}
	// 4293999999 is the last value kept.
	binary.Write(&src, binary.BigEndian, uint32(4293999999))
	if c, _ := NewEmailCode(&src); c != "999999" {
		t.Fatalf("NewEmailCode = %q, want 999999", c)
	}
}

func TestEmailCodeFailsOnShortRead(t *testing.T) {
	if _, err := NewEmailCode(bytes.NewReader([]byte{1, 2, 3})); err == nil {
		t.Fatal("NewEmailCode succeeded on a short read")
	}
}

func TestEmailCodeDigitsAreEvenlySpread(t *testing.T) {
	const samples = 20000
	r := seeded()
	var counts [6][10]int
	for range samples {
		c, err := NewEmailCode(r)
		if err != nil {
			t.Fatal(err)
		}
		for pos := range 6 {
			counts[pos][c[pos]-'0']++
		}
	}
	// Expect 2000 of each digit in each position; 1800..2200 is more than
	// four standard deviations (σ ≈ 42) either way.
	for pos, row := range counts {
		for d, n := range row {
			if n < 1800 || n > 2200 {
				t.Errorf("digit %d appears %d times in position %d, want about %d", d, n, pos, samples/10)
			}
		}
	}
}

func TestHashCode(t *testing.T) {
	key := []byte("server-side key")
	h := HashCode(key, "123456")
	if len(h) != 64 || strings.ToLower(h) != h {
		t.Fatalf("HashCode = %q, want 64 lower-case hex digits", h)
	}
	if HashCode(key, "123456") != h {
		t.Fatal("HashCode is not deterministic")
	}
	if HashCode(key, "123457") == h {
		t.Fatal("different codes hash alike")
	}
	if HashCode([]byte("another key"), "123456") == h {
		t.Fatal("the hash does not depend on the key")
	}
	// RFC 4231 test case 2.
	if got := HashCode([]byte("Jefe"), "what do ya want for nothing?"); got != "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Fatalf("HashCode is not HMAC-SHA-256: %s", got)
	}
}

func TestCodesEqual(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"123456", "123456", true},
		{"123456", "123457", false},
		{"123456", "12345", false},
		{"", "", true},
	} {
		if got := CodesEqual(c.a, c.b); got != c.want {
			t.Errorf("CodesEqual(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

var backupFormat = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)

func TestBackupCodesFormat(t *testing.T) {
	codes, err := NewBackupCodes(rand.Reader, BackupCodeCount)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != BackupCodeCount {
		t.Fatalf("%d codes, want %d", len(codes), BackupCodeCount)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if !backupFormat.MatchString(c) {
			t.Errorf("backup code %q is not xxxx-xxxx-xxxx-xxxx in Crockford base32", c)
		}
		if strings.ContainsAny(c, "ILOU") {
			t.Errorf("backup code %q has an ambiguous letter", c)
		}
		if seen[c] {
			t.Errorf("backup code %q repeated", c)
		}
		seen[c] = true
	}
}

func TestBackupCodeCarriesEightyBits(t *testing.T) {
	// Each 5 bits of input pick one symbol, so all 80 bits survive: the
	// all-zero and all-one inputs give the first and last symbols, and
	// flipping any one input bit changes the code.
	zero := [10]byte{}
	if got := formatBackupCode(encodeBackupSymbols(zero)); got != "0000-0000-0000-0000" {
		t.Fatalf("zero bits = %s", got)
	}
	ones := [10]byte{}
	for i := range ones {
		ones[i] = 0xFF
	}
	if got := formatBackupCode(encodeBackupSymbols(ones)); got != "ZZZZ-ZZZZ-ZZZZ-ZZZZ" {
		t.Fatalf("one bits = %s", got)
	}
	seen := map[string]bool{encodeBackupSymbols(zero): true}
	for bit := range 80 {
		raw := zero
		raw[bit/8] |= 0x80 >> (bit % 8)
		s := encodeBackupSymbols(raw)
		if seen[s] {
			t.Fatalf("flipping bit %d gives a code already seen: %s", bit, s)
		}
		seen[s] = true
	}
}

func TestBackupCodeSymbolsAreEvenlySpread(t *testing.T) {
	const sets = 2000
	r := seeded()
	var counts [16]map[rune]int
	for i := range counts {
		counts[i] = map[rune]int{}
	}
	for range sets {
		codes, err := NewBackupCodes(r, BackupCodeCount)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range codes {
			n, _ := NormalizeBackupCode(c)
			for pos, s := range n {
				counts[pos][s]++
			}
		}
	}
	// 20000 codes: about 625 of each of the 32 symbols in each position
	// (σ ≈ 24.6); 500..750 is five σ either way.
	for pos, m := range counts {
		if len(m) != 32 {
			t.Errorf("position %d uses %d symbols, want 32", pos, len(m))
		}
		for s, n := range m {
			if n < 500 || n > 750 {
				t.Errorf("symbol %c appears %d times in position %d, want about 625", s, n, pos)
			}
		}
	}
}

func TestBackupCodesInASetAreDistinct(t *testing.T) {
	// A broken reader that repeats each 80-bit value once: the set must
	// skip the repeats.
	var raw bytes.Buffer
	for i := range 6 {
		b := bytes.Repeat([]byte{byte(i / 2)}, 10)
		raw.Write(b)
	}
	codes, err := NewBackupCodes(&raw, 3)
	if err != nil {
		t.Fatal(err)
	}
	if codes[0] == codes[1] || codes[1] == codes[2] || codes[0] == codes[2] {
		t.Fatalf("repeated codes in one set: %v", codes)
	}
}

func TestBackupCodesCount(t *testing.T) {
	for _, n := range []int{0, -1, 101} {
		if _, err := NewBackupCodes(rand.Reader, n); err == nil {
			t.Errorf("NewBackupCodes(%d) succeeded", n)
		}
	}
	if _, err := NewBackupCodes(bytes.NewReader(make([]byte, 15)), 2); err == nil {
		t.Error("NewBackupCodes succeeded on a short read")
	}
}

func TestNormalizeBackupCode(t *testing.T) {
	const canon = "7KQ2M9XA0DFR3TZB"
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"7KQ2-M9XA-0DFR-3TZB", canon, true},
		{"7kq2-m9xa-0dfr-3tzb", canon, true},
		{"7KQ2M9XA0DFR3TZB", canon, true},
		{"7KQ2 M9XA 0DFR 3TZB", canon, true},
		{" 7kq2m9xa-0DFR 3tzb ", canon, true},
		{"7KQ2-M9XA-ODFR-3TZB", canon, true}, // O read as 0
		{"IIII-LLLL-iiii-llll", "1111111111111111", true},
		{"", "", false},
		{"7KQ2-M9XA-0DFR-3TZ", "", false},   // 15 symbols
		{"7KQ2-M9XA-0DFR-3TZBB", "", false}, // 17 symbols
		{"7KQ2-M9XA-0DFR-3TZU", "", false},  // U is not in the alphabet
		{"7KQ2_M9XA_0DFR_3TZB", "", false},  // unknown separator
		{"7KQ2-M9XA-0DFR-3TZ\u00e9", "", false},
		{strings.Repeat("-", 60) + canon, "", false},
	}
	for _, c := range cases {
		got, ok := NormalizeBackupCode(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("NormalizeBackupCode(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestGeneratedBackupCodesNormalizeAndHashAlike(t *testing.T) {
	key := []byte("k")
	codes, err := NewBackupCodes(rand.Reader, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		stored, ok := HashBackupCode(key, c)
		if !ok {
			t.Fatalf("generated code %q does not normalize", c)
		}
		typed := strings.ToLower(strings.ReplaceAll(c, "-", " "))
		if h, ok := HashBackupCode(key, typed); !ok || !CodesEqual(h, stored) {
			t.Fatalf("%q typed as %q hashes differently", c, typed)
		}
		n, _ := NormalizeBackupCode(c)
		if stored != HashCode(key, n) {
			t.Fatal("HashBackupCode is not HashCode of the normalized form")
		}
	}
	if _, ok := HashBackupCode(key, "nope"); ok {
		t.Fatal("HashBackupCode accepted a malformed code")
	}
}
