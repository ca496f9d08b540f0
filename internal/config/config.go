// Package config holds Switchboard's settings: defaults, SWITCHBOARD_* environment
// variables and command-line flags, returned as a value (never a global).
package config

import (
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is everything the server needs to start.
type Config struct {
	DatabaseURL       string        `env:"DATABASE_URL"`
	Addr              string        `env:"ADDR" envDefault:"127.0.0.1:8080"`
	PublicURL         string        `env:"PUBLIC_URL"`
	DataDir           string        `env:"DATA_DIR" envDefault:"./data"`
	AdminEmail        string        `env:"ADMIN_EMAIL"`
	AdminPassword     string        `env:"ADMIN_PASSWORD"`
	LogLevel          string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat         string        `env:"LOG_FORMAT" envDefault:"text"`
	SessionLifetime   time.Duration `env:"SESSION_LIFETIME" envDefault:"720h"`
	SessionIdle       time.Duration `env:"SESSION_IDLE_TIMEOUT" envDefault:"168h"`
	SQLiteSynchronous string        `env:"SQLITE_SYNCHRONOUS" envDefault:"NORMAL"`
	DebugAddr         string        `env:"DEBUG_ADDR"`
	WidgetRatePerIP   float64       `env:"WIDGET_RATE_PER_IP" envDefault:"20"`
	GeoIPDatabase     string        `env:"GEOIP_DATABASE"`
	TrustedProxies    string        `env:"TRUSTED_PROXIES"`
	TelegramAPIURL    string        `env:"TELEGRAM_API_URL" envDefault:"https://api.telegram.org"`
	WhatsAppAPIURL    string        `env:"WHATSAPP_API_URL" envDefault:"https://graph.facebook.com"`
	OutboxLease       time.Duration `env:"OUTBOX_LEASE" envDefault:"1m"`
	// Empty: the platform's own API.
	MessengerAPIURL string `env:"MESSENGER_API_URL"`
	InstagramAPIURL string `env:"INSTAGRAM_API_URL"`
	ViberAPIURL     string `env:"VIBER_API_URL"`
	VKAPIURL        string `env:"VK_API_URL"`
	OKAPIURL        string `env:"OK_API_URL"`
}

// Option describes one setting for flags and documentation.
type Option struct {
	Flag, Env, Usage string
}

// Load reads the environment (prefix SWITCHBOARD_) into a Config with defaults.
func Load() (Config, error) {
	var c Config
	if err := env.ParseWithOptions(&c, env.Options{Prefix: "SWITCHBOARD_"}); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// DatabaseFlags registers the flags that choose the database.
func (c *Config) DatabaseFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "database: sqlite:///path/file.db, a file path, or postgres://… (default <data-dir>/switchboard.db) [SWITCHBOARD_DATABASE_URL]")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for attachments and the default SQLite database [SWITCHBOARD_DATA_DIR]")
	fs.StringVar(&c.SQLiteSynchronous, "sqlite-synchronous", c.SQLiteSynchronous, "SQLite synchronous pragma: NORMAL survives a process crash, FULL also a power loss [SWITCHBOARD_SQLITE_SYNCHRONOUS]")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error [SWITCHBOARD_LOG_LEVEL]")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json [SWITCHBOARD_LOG_FORMAT]")
}

// ServeFlags registers every option of the serve command.
func (c *Config) ServeFlags(fs *flag.FlagSet) {
	c.DatabaseFlags(fs)
	fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on [SWITCHBOARD_ADDR]")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "HTTPS base URL that platforms and visitors reach; https turns on secure cookies [SWITCHBOARD_PUBLIC_URL]")
	fs.StringVar(&c.AdminEmail, "admin-email", c.AdminEmail, "email of the administrator created on first start [SWITCHBOARD_ADMIN_EMAIL]")
	fs.StringVar(&c.AdminPassword, "admin-password", c.AdminPassword, "password of that administrator; generated and printed once when empty [SWITCHBOARD_ADMIN_PASSWORD]")
	fs.DurationVar(&c.SessionLifetime, "session-lifetime", c.SessionLifetime, "a login lasts at most this long [SWITCHBOARD_SESSION_LIFETIME]")
	fs.DurationVar(&c.SessionIdle, "session-idle-timeout", c.SessionIdle, "a login unused this long ends [SWITCHBOARD_SESSION_IDLE_TIMEOUT]")
	fs.Float64Var(&c.WidgetRatePerIP, "widget-rate-per-ip", c.WidgetRatePerIP, "requests per second the website widget accepts from one address (load tests raise it) [SWITCHBOARD_WIDGET_RATE_PER_IP]")
	fs.StringVar(&c.GeoIPDatabase, "geoip-database", c.GeoIPDatabase, "MaxMind-format country database (e.g. GeoLite2-Country.mmdb) that shows visitors' countries [SWITCHBOARD_GEOIP_DATABASE]")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed [SWITCHBOARD_TRUSTED_PROXIES]")
	fs.StringVar(&c.TelegramAPIURL, "telegram-api-url", c.TelegramAPIURL, "base URL of the Telegram Bot API (a proxy, or a fake in tests) [SWITCHBOARD_TELEGRAM_API_URL]")
	fs.StringVar(&c.WhatsAppAPIURL, "whatsapp-api-url", c.WhatsAppAPIURL, "base URL of Meta's Graph API for WhatsApp (a proxy, or a fake in tests) [SWITCHBOARD_WHATSAPP_API_URL]")
	for _, o := range []struct {
		v          *string
		flag, name string
	}{
		{&c.MessengerAPIURL, "messenger-api-url", "MESSENGER"}, {&c.InstagramAPIURL, "instagram-api-url", "INSTAGRAM"},
		{&c.ViberAPIURL, "viber-api-url", "VIBER"}, {&c.VKAPIURL, "vk-api-url", "VK"}, {&c.OKAPIURL, "ok-api-url", "OK"},
	} {
		fs.StringVar(o.v, o.flag, *o.v, "base URL of the platform's API (empty: the platform's own; a proxy, or a fake in tests) [SWITCHBOARD_"+o.name+"_API_URL]")
	}
	fs.DurationVar(&c.OutboxLease, "outbox-lease", c.OutboxLease, "how long a reply being sent belongs to one worker; after a crash it is sent again once this has passed [SWITCHBOARD_OUTBOX_LEASE]")
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr, "if set, serve Go's pprof profiles on this separate address (keep it on loopback) [SWITCHBOARD_DEBUG_ADDR]")
}

// Database returns the database URL, defaulting to a SQLite file in DataDir.
func (c Config) Database() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, "switchboard.db")
}

// SecureCookies reports whether cookies must carry the Secure flag: whenever
// visitors reach the server over HTTPS.
func (c Config) SecureCookies() bool {
	return strings.HasPrefix(strings.ToLower(c.PublicURL), "https://")
}

// Proxies parses TrustedProxies; a plain address is a /32 or /128.
func (c Config) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("config: trusted proxy %q is not an address or CIDR", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("config: trusted proxy %q is not an address or CIDR", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Validate checks values that flags and env cannot type-check.
func (c Config) Validate() error {
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config: public URL %q must be an absolute http(s) URL", c.PublicURL)
		}
	}
	switch strings.ToUpper(c.SQLiteSynchronous) {
	case "NORMAL", "FULL":
	default:
		return fmt.Errorf("config: sqlite synchronous must be NORMAL or FULL, not %q", c.SQLiteSynchronous)
	}
	if _, err := c.Proxies(); err != nil {
		return err
	}
	if c.WidgetRatePerIP < 0 {
		return fmt.Errorf("config: the widget rate per address must not be negative")
	}
	if c.SessionLifetime <= 0 || c.SessionIdle <= 0 {
		return fmt.Errorf("config: session lifetimes must be positive")
	}
	return nil
}
