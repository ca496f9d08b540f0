// Package geoip finds the country of a visitor's address in a MaxMind-format
// database file (GeoLite2 or GeoIP2 Country or City), when one is configured.
package geoip

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// DB is an open country database.
type DB struct{ r *maxminddb.Reader }

// Open opens a MaxMind-format database file.
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: open %s: %w", path, err)
	}
	return &DB{r: r}, nil
}

type record struct {
	Country struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"country"`
}

// Country returns the English name of the address's country, its ISO code
// when the database has no name, or "" when it is unknown.
func (d *DB) Country(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	var rec record
	if err := d.r.Lookup(addr.Unmap()).Decode(&rec); err != nil {
		return ""
	}
	if name := rec.Country.Names["en"]; name != "" {
		return name
	}
	return rec.Country.ISOCode
}

// Close releases the file.
func (d *DB) Close() error { return d.r.Close() }
