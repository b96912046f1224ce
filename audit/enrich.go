package audit

import (
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stepgate/stepgate/storage"
)

// Request is where an attempt came from, as the HTTP handler saw it.
type Request struct {
	IP        string // the client address, after trusted-proxy handling
	UserAgent string
}

// Limits on what a client can make us store.
const (
	MaxUserAgent = 512 // bytes
	maxRawIP     = 64  // bytes, for a value that is not an address
)

// Enrich stamps e with when and where: At (UTC), IP, Country (from geo,
// which may be nil) and UserAgent. The user agent is the client's to choose,
// so control and format characters (which could forge lines in a log,
// drive a terminal or reorder what is displayed) and invalid UTF-8 are
// removed and it is cut to MaxUserAgent
// bytes on a character boundary. A valid IP is stored in canonical form
// (IPv4-mapped IPv6 as IPv4); anything else is cleaned the same way and
// kept short, so an administrator still sees what arrived.
func Enrich(e *storage.AuditEvent, now time.Time, geo *GeoIP, req Request) {
	e.At = now.UTC()
	if a, err := netip.ParseAddr(strings.TrimSpace(req.IP)); err == nil {
		e.IP = a.Unmap().String()
	} else {
		e.IP = clean(req.IP, maxRawIP)
	}
	e.Country = geo.Country(e.IP)
	e.UserAgent = clean(req.UserAgent, MaxUserAgent)
}

// clean drops invalid UTF-8 and control characters, trims spaces and cuts
// s to at most max bytes without splitting a character.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		// Cf holds the bidi overrides that make text display in an order
		// other than it reads.
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
