package geoip_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-hq/switchboard/internal/geoip"
	"github.com/switchboard-hq/switchboard/internal/geoip/geoiptest"
)

func TestVisitorsCountryComesFromTheConfiguredDatabase(t *testing.T) {
	db, err := geoip.Open(geoiptest.Write(t, map[string]geoiptest.Country{
		"81.2.69.0/24":   {ISOCode: "GB", Name: "United Kingdom"},
		"2a02:ff0::/32":  {ISOCode: "DE", Name: "Germany"},
		"89.160.20.0/24": {ISOCode: "SE"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for ip, want := range map[string]string{
		"81.2.69.160":      "United Kingdom",
		"::ffff:81.2.69.1": "United Kingdom", // an IPv4 visitor on a dual-stack listener
		"2a02:ff0::1":      "Germany",
		"89.160.20.112":    "SE", // no name in the database: the ISO code
		"8.8.8.8":          "",   // not in the database
		"not an address":   "",
	} {
		if got := db.Country(ip); got != want {
			t.Errorf("Country(%q) = %q, want %q", ip, got, want)
		}
	}
}

func TestAMissingOrBrokenDatabaseIsAClearError(t *testing.T) {
	if _, err := geoip.Open(filepath.Join(t.TempDir(), "none.mmdb")); err == nil {
		t.Error("opening a missing file succeeded")
	}
	junk := filepath.Join(t.TempDir(), "junk.mmdb")
	os.WriteFile(junk, []byte("not a database"), 0o644)
	if _, err := geoip.Open(junk); err == nil {
		t.Error("opening a junk file succeeded")
	}
}
