// Package geoiptest writes small MaxMind-format country databases for tests.
package geoiptest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Country is one network's entry; an empty Name leaves the names out.
type Country struct {
	ISOCode, Name string
}

// Write writes a country database with the given networks (CIDR → country)
// into a temporary directory and returns its path.
func Write(t testing.TB, networks map[string]Country) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, c := range networks {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		country := mmdbtype.Map{"iso_code": mmdbtype.String(c.ISOCode)}
		if c.Name != "" {
			country["names"] = mmdbtype.Map{"en": mmdbtype.String(c.Name)}
		}
		if err := tree.Insert(network, mmdbtype.Map{"country": country}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "countries.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}
