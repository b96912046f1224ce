// Package audittest writes small GeoIP databases, so tests of code that
// looks up countries (audit.OpenGeoIP, the server's --geoip-db) need no
// downloaded database.
package audittest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// WriteCountryDB writes a GeoLite2-Country database placing each CIDR in the
// country with the given ISO code, e.g. {"81.2.69.0/24": "GB"}, and returns
// its path. The file is removed when the test ends.
func WriteCountryDB(t testing.TB, countries map[string]string) string {
	t.Helper()
	records := make(map[string]mmdbtype.Map, len(countries))
	for cidr, iso := range countries {
		records[cidr] = mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(iso)}}
	}
	return WriteMMDB(t, "GeoLite2-Country", records)
}

// WriteMMDB writes a MaxMind-format database whose metadata names dbType
// ("GeoLite2-Country", "GeoIP2-City", "GeoLite2-ASN", …), mapping each CIDR
// to its record, and returns its path. The file is removed when the test
// ends.
func WriteMMDB(t testing.TB, dbType string, records map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(network, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "test.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
