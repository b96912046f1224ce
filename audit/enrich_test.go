package audit_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

func TestEnrichStampsWhenAndWhere(t *testing.T) {
	g := openTestGeoIP(t)
	now := time.Date(2025, 5, 1, 14, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	e := storage.AuditEvent{Type: mfa.EventPassword, Identifier: "alice@example.com", Result: storage.ResultFailure,
		Reason: mfa.ReasonWrongPassword}

	audit.Enrich(&e, now, g, audit.Request{IP: "::ffff:2.125.160.216", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)"})

	if !e.At.Equal(now) || e.At.Location() != time.UTC {
		t.Errorf("At %v", e.At)
	}
	if e.IP != "2.125.160.216" || e.Country != "FR" || e.UserAgent != "Mozilla/5.0 (X11; Linux x86_64)" {
		t.Errorf("IP %q, Country %q, UA %q", e.IP, e.Country, e.UserAgent)
	}
	if e.Type != mfa.EventPassword || e.Identifier != "alice@example.com" || e.Reason != mfa.ReasonWrongPassword {
		t.Errorf("Enrich changed the event itself: %+v", e)
	}
}

func TestEnrichCleansWhatTheClientControls(t *testing.T) {
	for name, tc := range map[string]struct {
		req         audit.Request
		ip, ua      string
		wantCountry string
	}{
		"log line forged in the user agent": {
			req: audit.Request{IP: "81.2.69.1", UserAgent: "curl/8\r\n2025-05-01 INFO login ok user=admin"},
			ip:  "81.2.69.1", ua: "curl/82025-05-01 INFO login ok user=admin", wantCountry: "GB"},
		"terminal escapes and bidi override": {
			req: audit.Request{IP: "10.0.0.1", UserAgent: "\x1b[2J\x1b]0;pwned\x07agent\u202egnp.exe\u0085"},
			ip:  "10.0.0.1", ua: "[2J]0;pwnedagentgnp.exe"},
		"invalid UTF-8": {
			req: audit.Request{IP: "2a02:ec80::1", UserAgent: "ok\xff\xfeok"},
			ip:  "2a02:ec80::1", ua: "okok", wantCountry: "DE"},
		"not an address is kept, cleaned and short": {
			req: audit.Request{IP: "unknown\n" + strings.Repeat("x", 100)},
			ip:  "unknown" + strings.Repeat("x", 57)},
		"IPv6 written canonically": {
			req: audit.Request{IP: "2A02:EC80:0000::0001"},
			ip:  "2a02:ec80::1", wantCountry: "DE"},
	} {
		t.Run(name, func(t *testing.T) {
			var e storage.AuditEvent
			audit.Enrich(&e, time.Now(), openTestGeoIP(t), tc.req)
			if e.IP != tc.ip || e.UserAgent != tc.ua || e.Country != tc.wantCountry {
				t.Errorf("got IP %q UA %q country %q\nwant IP %q UA %q country %q", e.IP, e.UserAgent, e.Country, tc.ip, tc.ua, tc.wantCountry)
			}
		})
	}
}

func TestEnrichCutsTheUserAgentOnACharacterBoundary(t *testing.T) {
	ua := strings.Repeat("a", audit.MaxUserAgent-1) + "é" + "tail" // é is 2 bytes across the limit
	var e storage.AuditEvent
	audit.Enrich(&e, time.Now(), nil, audit.Request{IP: "81.2.69.1", UserAgent: ua})
	if len(e.UserAgent) != audit.MaxUserAgent-1 || !utf8.ValidString(e.UserAgent) {
		t.Errorf("len %d, valid %v", len(e.UserAgent), utf8.ValidString(e.UserAgent))
	}
	if e.Country != "" {
		t.Errorf("no GeoIP but country %q", e.Country)
	}
	audit.Enrich(&e, time.Now(), nil, audit.Request{UserAgent: strings.Repeat("b", 10_000)})
	if len(e.UserAgent) != audit.MaxUserAgent || e.IP != "" {
		t.Errorf("len %d, IP %q", len(e.UserAgent), e.IP)
	}
}
