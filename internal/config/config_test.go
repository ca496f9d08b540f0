package config

import (
	"flag"
	"path/filepath"
	"testing"
	"time"
)

func TestEnvironmentThenFlags(t *testing.T) {
	t.Setenv("SWITCHBOARD_ADDR", "0.0.0.0:9000")
	t.Setenv("SWITCHBOARD_DATA_DIR", "/srv/sb")
	t.Setenv("SWITCHBOARD_SESSION_IDLE_TIMEOUT", "2h")
	t.Setenv("SWITCHBOARD_DATABASE_URL", "")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9000" || c.SessionIdle != 2*time.Hour || c.Database() != filepath.Join("/srv/sb", "switchboard.db") {
		t.Errorf("from the environment: %+v", c)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.ServeFlags(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:1", "--database-url", "postgres://db/x"}); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:1" || c.Database() != "postgres://db/x" || c.DataDir != "/srv/sb" {
		t.Errorf("flags must win over the environment and keep the rest: %+v", c)
	}
}

func TestValidate(t *testing.T) {
	base := Config{SQLiteSynchronous: "NORMAL", SessionLifetime: time.Hour, SessionIdle: time.Hour}
	cases := []struct {
		name   string
		change func(*Config)
		valid  bool
		secure bool
	}{
		{"defaults", func(*Config) {}, true, false},
		{"https public URL turns on secure cookies", func(c *Config) { c.PublicURL = "https://help.example.com" }, true, true},
		{"http public URL", func(c *Config) { c.PublicURL = "http://localhost:8080" }, true, false},
		{"relative public URL", func(c *Config) { c.PublicURL = "help.example.com" }, false, false},
		{"FULL synchronous", func(c *Config) { c.SQLiteSynchronous = "full" }, true, false},
		{"unknown synchronous", func(c *Config) { c.SQLiteSynchronous = "OFF" }, false, false},
		{"zero session lifetime", func(c *Config) { c.SessionLifetime = 0 }, false, false},
	}
	for _, tc := range cases {
		c := base
		tc.change(&c)
		if err := c.Validate(); (err == nil) != tc.valid {
			t.Errorf("%s: Validate() = %v, want valid=%v", tc.name, err, tc.valid)
		}
		if c.SecureCookies() != tc.secure {
			t.Errorf("%s: SecureCookies() = %v", tc.name, c.SecureCookies())
		}
	}
}
