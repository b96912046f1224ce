package mfa

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// TOTP as every common authenticator app does it by default (RFC 6238):
// HMAC-SHA-1, six digits, 30-second steps.
const (
	TOTPSecretSize = 20 // bytes: the 160 bits RFC 4226 recommends
	TOTPDigits     = 6
	TOTPPeriod     = 30 * time.Second
)

// b32 is how secrets are written in key URIs: RFC 4648 base32, upper case,
// no padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// GenerateTOTPSecret reads a new 160-bit TOTP secret from r.
func GenerateTOTPSecret(r io.Reader) ([]byte, error) {
	secret := make([]byte, TOTPSecretSize)
	if _, err := io.ReadFull(r, secret); err != nil {
		return nil, fmt.Errorf("mfa: reading TOTP secret: %w", err)
	}
	return secret, nil
}

// TOTPKeyURI is the otpauth:// URI an authenticator app enrolls from, in
// the Key URI Format: the label is "issuer:account" and the issuer is
// repeated as a parameter. Spaces are written %20, as pquerna/otp does,
// because some apps do not read "+" as a space; and, unlike pquerna/otp, a
// literal "+" (common in email addresses), "&" or "=" is escaped too, so
// that no app can read it as a space or a parameter boundary.
func TOTPKeyURI(issuer, account string, secret []byte) string {
	return "otpauth://totp/" + labelEscape(issuer) + ":" + labelEscape(account) +
		"?secret=" + b32.EncodeToString(secret) +
		"&issuer=" + queryEscape(issuer) +
		"&algorithm=" + otp.AlgorithmSHA1.String() +
		"&digits=" + otp.DigitsSix.String() +
		fmt.Sprintf("&period=%d", int(TOTPPeriod/time.Second))
}

// labelEscape escapes one half of the label. A colon inside either half
// would make the label ambiguous, so it is escaped as well.
func labelEscape(s string) string {
	return strings.NewReplacer("+", "%2B", ":", "%3A").Replace(url.PathEscape(s))
}

// queryEscape is url.QueryEscape with spaces as %20.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// FormatManualKey writes secret for typing by hand: base32 in groups of
// four, e.g. "GEZD GNBV GY3T QOJQ".
func FormatManualKey(secret []byte) string {
	s := b32.EncodeToString(secret)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// ParseCode reads a six-digit code as typed, allowing spaces anywhere
// ("123 456"), and returns the six digits.
func ParseCode(input string) (string, bool) {
	if len(input) > 64 {
		return "", false
	}
	code := make([]byte, 0, TOTPDigits)
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch {
		case c == ' ' || c == '\t':
		case c >= '0' && c <= '9' && len(code) < TOTPDigits:
			code = append(code, c)
		default:
			return "", false
		}
	}
	if len(code) != TOTPDigits {
		return "", false
	}
	return string(code), true
}

// TOTPStep is the RFC 6238 time step containing t.
func TOTPStep(t time.Time) int64 {
	period := int64(TOTPPeriod / time.Second)
	s := t.Unix()
	step := s / period
	if s < 0 && s%period != 0 {
		step--
	}
	return step
}

// TOTPCode is the code for the step containing t, as an authenticator app
// shows it at that time.
func TOTPCode(secret []byte, t time.Time) string {
	return stepCode(secret, TOTPStep(t))
}

// VerifyTOTP reports whether code is the code of the step containing now
// or of the step just before or after it (one step of clock drift either
// way, nothing more), and which step it is. The caller must refuse a step
// that is not later than the last one it accepted for this secret, or a
// code seen once could be replayed within its 90-second window.
func VerifyTOTP(secret []byte, code string, now time.Time) (step int64, ok bool) {
	if len(secret) == 0 || !isDigits(code, TOTPDigits) {
		return 0, false
	}
	current := TOTPStep(now)
	// Every candidate is computed and compared, so the time taken does not
	// tell which one matched. When (once in a million) two steps share a
	// code, the later one is returned: recording it as used is the safe side.
	for s := current - 1; s <= current+1; s++ {
		if s < 0 {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(stepCode(secret, s)), []byte(code)) == 1 {
			step, ok = s, true
		}
	}
	return step, ok
}

// stepCode is the HOTP code (RFC 4226) of secret at counter step.
func stepCode(secret []byte, step int64) string {
	code, err := hotp.GenerateCodeCustom(b32.EncodeToString(secret), uint64(step), hotp.ValidateOpts{
		Digits:    otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil { // only for a secret that is not base32, which b32 cannot produce
		return ""
	}
	return code
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// quietZone is the blank border, in modules, that the QR specification
// requires around a symbol; without it scanners often fail to find it.
const quietZone = 4

// maxQRSize bounds the image a caller can ask for, in pixels per side.
const maxQRSize = 4096

// TOTPQRCodePNG draws uri as a QR code in a size×size PNG with a quiet
// zone. The symbol is scaled by a whole number of pixels per module so that
// it stays sharp; size must leave at least one pixel per module.
//
// It encodes with boombuler/barcode, the library pquerna/otp's Key.Image
// uses, but draws the image itself: Key.Image leaves no quiet zone when the
// size is a multiple of the symbol's width.
func TOTPQRCodePNG(uri string, size int) ([]byte, error) {
	if size <= 0 || size > maxQRSize {
		return nil, fmt.Errorf("mfa: QR code size %d outside 1..%d", size, maxQRSize)
	}
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("mfa: encoding QR code: %w", err)
	}
	modules := code.Bounds().Dx()
	scale := size / (modules + 2*quietZone)
	if scale < 1 {
		return nil, errors.New("mfa: QR code size too small for this URI")
	}
	offset := (size - modules*scale) / 2

	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	for y := 0; y < modules; y++ {
		for x := 0; x < modules; x++ {
			if r, _, _, _ := code.At(x, y).RGBA(); r > 0x7fff {
				continue // light module
			}
			for dy := 0; dy < scale; dy++ {
				row := img.Pix[(offset+y*scale+dy)*img.Stride:]
				for dx := 0; dx < scale; dx++ {
					row[offset+x*scale+dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mfa: writing QR code PNG: %w", err)
	}
	return buf.Bytes(), nil
}
