package audit

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// GeoIP maps an IP address to the country it is in, from a MaxMind
// GeoLite2/GeoIP2 Country or City database (or another .mmdb with the same
// layout, such as DB-IP's). It is safe for concurrent use. A nil *GeoIP is
// valid and knows no country, so callers need not check whether one is
// configured.
type GeoIP struct {
	db *maxminddb.Reader
}

// OpenGeoIP opens the .mmdb file at path. It refuses a database whose type
// names neither a country nor a city database (an ASN database, say), which
// would otherwise answer "" for every address.
func OpenGeoIP(path string) (*GeoIP, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit: GeoIP database: %w", err)
	}
	t := strings.ToLower(db.Metadata.DatabaseType)
	if !strings.Contains(t, "country") && !strings.Contains(t, "city") {
		db.Close()
		return nil, fmt.Errorf("audit: GeoIP database %s is of type %q; want a Country or City database",
			path, db.Metadata.DatabaseType)
	}
	return &GeoIP{db: db}, nil
}

// countryRecord is the part of a record we read; the decoder skips the rest.
type countryRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	// Where the network is registered. MaxMind leaves country out for some
	// networks (anycast, satellite, some EU-wide ranges) but still knows
	// this, which beats showing nothing.
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

// Country is the ISO 3166-1 alpha-2 code ("FR") of the country ip is in, or
// "" if ip is not an address, the database does not know it, or g is nil.
// IPv4-mapped IPv6 addresses (::ffff:1.2.3.4) are looked up as IPv4.
func (g *GeoIP) Country(ip string) string {
	if g == nil || g.db == nil {
		return ""
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return ""
	}
	var rec countryRecord
	if err := g.db.Lookup(addr.Unmap().WithZone("")).Decode(&rec); err != nil {
		return ""
	}
	if rec.Country.ISOCode != "" {
		return rec.Country.ISOCode
	}
	return rec.RegisteredCountry.ISOCode
}

// Close releases the database. Lookups must have stopped.
func (g *GeoIP) Close() error {
	if g == nil || g.db == nil {
		return nil
	}
	return g.db.Close()
}
