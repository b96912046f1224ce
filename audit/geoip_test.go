package audit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/audit/audittest"
)

func country(code string) mmdbtype.Map {
	return mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(code),
		"names": mmdbtype.Map{"en": mmdbtype.String("ignored")}}}
}

// openTestGeoIP is a GeoLite2-Country-shaped database with a few networks.
func openTestGeoIP(t *testing.T) *audit.GeoIP {
	t.Helper()
	path := audittest.WriteMMDB(t, "GeoLite2-Country", map[string]mmdbtype.Map{
		"81.2.69.0/24":     country("GB"),
		"2.125.160.0/24":   country("FR"),
		"2a02:ec80::/32":   country("DE"),
		"89.160.20.128/25": {"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("SE")}},
	})
	g, err := audit.OpenGeoIP(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func TestGeoIPCountry(t *testing.T) {
	g := openTestGeoIP(t)
	for ip, want := range map[string]string{
		"81.2.69.142":            "GB",
		"81.2.69.0":              "GB",
		"2.125.160.216":          "FR",
		"::ffff:81.2.69.142":     "GB", // IPv4-mapped IPv6
		"2a02:ec80:600:ed1a::3":  "DE",
		"fe80::1%eth0":           "",   // zone, not in the database
		"89.160.20.200":          "SE", // only the registered country is known
		"81.2.70.1":              "",   // next network: not in the database
		"8.8.8.8":                "",
		"2001:4860:4860::8888":   "",
		" 2.125.160.216 ":        "FR",
		"not an ip":              "",
		"":                       "",
		"81.2.69.142:443":        "", // host:port is not an address
		"[2a02:ec80::1]":         "",
		"2a02:ec80:0:0:0:0:0:ff": "DE",
	} {
		if got := g.Country(ip); got != want {
			t.Errorf("Country(%q) = %q, want %q", ip, got, want)
		}
	}
}

func TestGeoIPNotConfiguredKnowsNoCountry(t *testing.T) {
	var g *audit.GeoIP
	if got := g.Country("81.2.69.142"); got != "" {
		t.Errorf("nil GeoIP gave %q", got)
	}
	if err := g.Close(); err != nil {
		t.Error(err)
	}
}

func TestOpenGeoIPRefusesWhatItCannotUse(t *testing.T) {
	if _, err := audit.OpenGeoIP(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("opened a missing file")
	}
	junk := filepath.Join(t.TempDir(), "junk.mmdb")
	os.WriteFile(junk, []byte("not a database"), 0o600)
	if _, err := audit.OpenGeoIP(junk); err == nil {
		t.Error("opened junk")
	}
	asn := audittest.WriteMMDB(t, "GeoLite2-ASN", map[string]mmdbtype.Map{
		"81.2.69.0/24": {"autonomous_system_number": mmdbtype.Uint32(20712)},
	})
	if _, err := audit.OpenGeoIP(asn); err == nil || !strings.Contains(err.Error(), `"GeoLite2-ASN"`) {
		t.Errorf("ASN database: %v", err)
	}
	city := audittest.WriteMMDB(t, "GeoIP2-City", map[string]mmdbtype.Map{"81.2.69.0/24": country("GB")})
	g, err := audit.OpenGeoIP(city)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if got := g.Country("81.2.69.1"); got != "GB" {
		t.Errorf("City database: %q", got)
	}
}
