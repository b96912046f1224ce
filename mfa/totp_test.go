package mfa

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pquerna/otp"
)

// rfcSecret is the SHA-1 key of the RFC 6238 appendix B test vectors.
var rfcSecret = []byte("12345678901234567890")

func TestTOTPCodeMatchesRFC6238Vectors(t *testing.T) {
	// Appendix B lists 8-digit codes; six digits are their last six.
	for _, v := range []struct {
		unix int64
		code string
	}{
		{59, "287082"},         // 94287082
		{1111111109, "081804"}, // 07081804
		{1111111111, "050471"}, // 14050471
		{1234567890, "005924"}, // 89005924
		{2000000000, "279037"}, // 69279037
		{20000000000, "353130"},
	} {
		if got := TOTPCode(rfcSecret, time.Unix(v.unix, 0)); got != v.code {
			t.Errorf("TOTPCode(T=%d) = %s, want %s", v.unix, got, v.code)
		}
	}
}

func TestVerifyTOTPAcceptsOneStepOfDriftEachWay(t *testing.T) {
	now := time.Unix(1111111111, 0) // inside step 37037037
	const T = int64(37037037)
	if got := TOTPStep(now); got != T {
		t.Fatalf("TOTPStep = %d, want %d", got, T)
	}
	at := func(step int64) time.Time { return time.Unix(step*30, 0) }
	cases := []struct {
		name   string
		step   int64
		accept bool
	}{
		{"current step accepted", T, true},
		{"previous step accepted", T - 1, true},
		{"next step accepted", T + 1, true},
		{"two steps back rejected", T - 2, false},
		{"two steps ahead rejected", T + 2, false},
		{"an hour back rejected", T - 120, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code := TOTPCode(rfcSecret, at(c.step))
			step, ok := VerifyTOTP(rfcSecret, code, now)
			if ok != c.accept {
				t.Fatalf("VerifyTOTP(code of step %d) ok = %v, want %v", c.step, ok, c.accept)
			}
			if ok && step != c.step {
				t.Fatalf("VerifyTOTP returned step %d, want %d", step, c.step)
			}
		})
	}
}

func TestVerifyTOTPWindowFollowsTheClockAcrossAStep(t *testing.T) {
	code := TOTPCode(rfcSecret, time.Unix(600, 0)) // step 20, from 600s to 629s
	for _, c := range []struct {
		unix   int64
		accept bool
	}{
		{569, false}, // step 18
		{570, true},  // step 19
		{629, true},
		{659, true}, // step 21
		{660, false},
	} {
		step, ok := VerifyTOTP(rfcSecret, code, time.Unix(c.unix, 0))
		if ok != c.accept || (ok && step != 20) {
			t.Errorf("at %ds: step %d ok %v, want step 20 ok %v", c.unix, step, ok, c.accept)
		}
	}
}

func TestVerifyTOTPRejectsMalformedInput(t *testing.T) {
	now := time.Unix(59, 0)
	for _, code := range []string{"", "28708", "2870822", "287 082", "28708a", "94287082"} {
		if _, ok := VerifyTOTP(rfcSecret, code, now); ok {
			t.Errorf("VerifyTOTP(%q) accepted", code)
		}
	}
	if _, ok := VerifyTOTP(nil, TOTPCode(nil, now), now); ok {
		t.Error("VerifyTOTP accepted an empty secret")
	}
	if _, ok := VerifyTOTP([]byte("another secret value"), "287082", now); ok {
		t.Error("VerifyTOTP accepted another secret's code")
	}
}

func TestTOTPStepBeforeTheEpoch(t *testing.T) {
	for unix, want := range map[int64]int64{0: 0, 29: 0, 30: 1, -1: -1, -30: -1, -31: -2} {
		if got := TOTPStep(time.Unix(unix, 0)); got != want {
			t.Errorf("TOTPStep(%d) = %d, want %d", unix, got, want)
		}
	}
	// Step 0's window includes step -1, which does not exist.
	step, ok := VerifyTOTP(rfcSecret, TOTPCode(rfcSecret, time.Unix(0, 0)), time.Unix(0, 0))
	if !ok || step != 0 {
		t.Fatalf("VerifyTOTP at the epoch = %d, %v", step, ok)
	}
}

func TestParseCode(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"123456", "123456", true},
		{"123 456", "123456", true},
		{" 123456 ", "123456", true},
		{"1 2 3 4 5 6", "123456", true},
		{"12\t3456", "123456", true},
		{"000000", "000000", true},
		{"", "", false},
		{"12345", "", false},
		{"1234567", "", false},
		{"123 4567", "", false},
		{"12345a", "", false},
		{"123-456", "", false},
		{"１２３４５６", "", false}, // full-width digits
		{"١٢٣٤٥٦", "", false}, // Arabic-Indic digits
		{strings.Repeat(" ", 100) + "123456", "", false},
	}
	for _, c := range cases {
		got, ok := ParseCode(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseCode(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestFormatManualKey(t *testing.T) {
	cases := []struct {
		secret []byte
		want   string
	}{
		{rfcSecret, "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"},
		{[]byte("abc"), "MFRG G"},
		{nil, ""},
	}
	for _, c := range cases {
		if got := FormatManualKey(c.secret); got != c.want {
			t.Errorf("FormatManualKey(%q) = %q, want %q", c.secret, got, c.want)
		}
	}
}

func TestGenerateTOTPSecret(t *testing.T) {
	src := bytes.Repeat([]byte{0xAB}, 40)
	secret, err := GenerateTOTPSecret(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(secret, src[:20]) {
		t.Fatalf("secret = %x, want the first 20 bytes of the reader", secret)
	}
	if _, err := GenerateTOTPSecret(bytes.NewReader(src[:19])); err == nil {
		t.Fatal("GenerateTOTPSecret succeeded on a short read")
	}
}

func TestTOTPKeyURI(t *testing.T) {
	got := TOTPKeyURI("StepGate", "alice@example.com", rfcSecret)
	want := "otpauth://totp/StepGate:alice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=StepGate&algorithm=SHA1&digits=6&period=30"
	if got != want {
		t.Fatalf("TOTPKeyURI =\n%s\nwant\n%s", got, want)
	}
}

func TestTOTPKeyURIReadsBackWithOTP(t *testing.T) {
	for _, issuer := range []string{"StepGate", "Acme Corp", "R&D = fun+games", "Café"} {
		uri := TOTPKeyURI(issuer, "bob+tag@example.com", rfcSecret)
		key, err := otp.NewKeyFromURL(uri)
		if err != nil {
			t.Fatal(err)
		}
		if key.Type() != "totp" || key.Issuer() != issuer || key.AccountName() != "bob+tag@example.com" ||
			key.Secret() != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" || key.Period() != 30 ||
			key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
			t.Errorf("%s read back as type %s issuer %q account %q secret %s period %d digits %s algorithm %s",
				uri, key.Type(), key.Issuer(), key.AccountName(), key.Secret(), key.Period(), key.Digits(), key.Algorithm())
		}
		if strings.Contains(uri, "+") {
			t.Errorf("%s has a literal +, which some apps read as a space", uri)
		}
	}
}

func TestQRCodeDecodesToTheURI(t *testing.T) {
	uri := TOTPKeyURI("StepGate", "alice@example.com", rfcSecret)
	for _, size := range []int{200, 256, 333} {
		pngData, err := TOTPQRCodePNG(uri, size)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(pngData))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Fatalf("image is %v, want %dx%d", b, size, size)
		}
		// The border is blank: the quiet zone is there.
		for i := 0; i < size; i++ {
			for _, p := range [][2]int{{i, 0}, {0, i}, {i, size - 1}, {size - 1, i}} {
				if r, _, _, _ := img.At(p[0], p[1]).RGBA(); r != 0xffff {
					t.Fatalf("size %d: border pixel %v is not white", size, p)
				}
			}
		}
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			t.Fatal(err)
		}
		// PURE_BARCODE: the image is a generated symbol, not a photo. gozxing's
		// photo detector misjudges about 1 in 200 of these symbols' geometry
		// ("dimension = 31") although they are valid; read as pure barcodes,
		// 2,000 of 2,000 random otpauth URIs decode.
		res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
		if err != nil {
			t.Fatalf("size %d: decoding QR code: %v", size, err)
		}
		if res.GetText() != uri {
			t.Fatalf("QR code reads %q, want %q", res.GetText(), uri)
		}
	}
}

func TestQRCodeRefusesUnusableSizes(t *testing.T) {
	uri := TOTPKeyURI("StepGate", "alice@example.com", rfcSecret)
	for _, size := range []int{-1, 0, 20, 10000} {
		if _, err := TOTPQRCodePNG(uri, size); err == nil {
			t.Errorf("TOTPQRCodePNG(size %d) succeeded", size)
		}
	}
}
