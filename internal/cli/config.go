package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// Config is everything StepGate is configured with. Values come from, in
// rising precedence: defaults, the YAML file (--config), STEPGATE_*
// environment variables, command-line flags.
type Config struct {
	Listen   string `yaml:"listen"`
	Issuer   string `yaml:"issuer"`
	Database string `yaml:"database"`
	// DatabaseTimeout bounds every database statement and transaction.
	DatabaseTimeout time.Duration `yaml:"database_timeout"`
	DataDir         string        `yaml:"data_dir"`
	MasterKeyFile   string        `yaml:"master_key_file"`
	// MasterKey is only read from STEPGATE_MASTER_KEY: a secret does not
	// belong on a command line or in a config file.
	MasterKey   string `yaml:"-"`
	Dev         bool   `yaml:"dev"`
	AutoMigrate *bool  `yaml:"auto_migrate"` // nil: on in --dev, off otherwise
	LogFormat   string `yaml:"log_format"`   // json or text; default text in --dev
	LogLevel    string `yaml:"log_level"`

	SigningAlgorithm    string        `yaml:"signing_algorithm"`
	KeyRotationDelay    time.Duration `yaml:"key_rotation_delay"`
	AccessTokenLifetime time.Duration `yaml:"access_token_lifetime"`
	IDTokenLifetime     time.Duration `yaml:"id_token_lifetime"`
	RefreshLifetime     time.Duration `yaml:"refresh_token_lifetime"`
	SessionIdle         time.Duration `yaml:"session_idle_timeout"`
	SessionAbsolute     time.Duration `yaml:"session_absolute_timeout"`
	TrustedProxies      []string      `yaml:"trusted_proxies"`

	SMTPURL      string `yaml:"smtp_url"`
	SMTPStartTLS string `yaml:"smtp_starttls"` // mandatory, opportunistic or none; default by host
	MailFrom     string `yaml:"mail_from"`
	GeoIPDB      string `yaml:"geoip_db"`
	TOTPIssuer   string `yaml:"totp_issuer"`

	MFALockoutThreshold      int           `yaml:"mfa_lockout_threshold"`
	MFALockoutDuration       time.Duration `yaml:"mfa_lockout_duration"`
	PasswordLockoutThreshold int           `yaml:"password_lockout_threshold"`
	PasswordLockoutDuration  time.Duration `yaml:"password_lockout_duration"`
	PasswordIPLimit          int           `yaml:"password_ip_limit"`
	PasswordIPWindow         time.Duration `yaml:"password_ip_window"`
}

func defaultConfig() Config {
	return Config{
		Listen:              "127.0.0.1:8080",
		DataDir:             "./data",
		DatabaseTimeout:     5 * time.Second,
		LogLevel:            "info",
		SigningAlgorithm:    "RS256",
		KeyRotationDelay:    24 * time.Hour,
		AccessTokenLifetime: 15 * time.Minute,
		IDTokenLifetime:     time.Hour,
		RefreshLifetime:     30 * 24 * time.Hour,
		SessionIdle:         30 * time.Minute,
		SessionAbsolute:     12 * time.Hour,

		MailFrom:                 "StepGate <no-reply@stepgate.localhost>",
		TOTPIssuer:               "StepGate",
		MFALockoutThreshold:      6,
		MFALockoutDuration:       time.Hour,
		PasswordLockoutThreshold: 10,
		PasswordLockoutDuration:  15 * time.Minute,
		PasswordIPLimit:          50,
		PasswordIPWindow:         10 * time.Minute,
	}
}

// optBool is a bool flag that remembers whether it was set at all.
type optBool struct{ p **bool }

func (o optBool) String() string {
	if o.p == nil || *o.p == nil {
		return ""
	}
	return strconv.FormatBool(**o.p)
}

func (o optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*o.p = &v
	return nil
}

func (o optBool) IsBoolFlag() bool { return true }

// listFlag is a repeatable (or comma-separated) string flag.
type listFlag struct{ p *[]string }

func (l listFlag) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l.p = append(*l.p, v)
		}
	}
	return nil
}

// bind registers the configuration flags on fs, bound to c.
func (c *Config) bind(fs *flag.FlagSet) {
	fs.String("config", "", "YAML configuration file")
	fs.StringVar(&c.Listen, "listen", c.Listen, "address to listen on")
	fs.StringVar(&c.Issuer, "issuer", c.Issuer, "issuer URL (default in --dev: http://<listen>)")
	fs.StringVar(&c.Database, "database", c.Database, "database URL: sqlite:///abs/path.db, sqlite://relative.db or postgres://… (default sqlite://<data-dir>/stepgate.db)")
	fs.DurationVar(&c.DatabaseTimeout, "database-timeout", c.DatabaseTimeout, "bound on every database statement and transaction; past it the request fails instead of hanging")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the SQLite database, the dev master key and the dev outbox")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", c.MasterKeyFile, "file holding the base64 32-byte master key (or set STEPGATE_MASTER_KEY)")
	fs.BoolVar(&c.Dev, "dev", c.Dev, "development mode: http on localhost, generated master key, auto-migrate, demo accounts")
	fs.Var(optBool{&c.AutoMigrate}, "auto-migrate", "apply pending migrations at start (default on in --dev)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: json or text (default json, text in --dev)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&c.SigningAlgorithm, "signing-algorithm", c.SigningAlgorithm, "algorithm for new signing keys: RS256 or ES256")
	fs.DurationVar(&c.KeyRotationDelay, "key-rotation-delay", c.KeyRotationDelay, "how long a rotated key is published before it signs")
	fs.DurationVar(&c.AccessTokenLifetime, "access-token-lifetime", c.AccessTokenLifetime, "access token lifetime")
	fs.DurationVar(&c.IDTokenLifetime, "id-token-lifetime", c.IDTokenLifetime, "ID token lifetime")
	fs.DurationVar(&c.RefreshLifetime, "refresh-token-lifetime", c.RefreshLifetime, "refresh token lifetime")
	fs.DurationVar(&c.SessionIdle, "session-idle-timeout", c.SessionIdle, "SSO session idle timeout")
	fs.DurationVar(&c.SessionAbsolute, "session-absolute-timeout", c.SessionAbsolute, "SSO session absolute timeout")
	fs.Var(listFlag{&c.TrustedProxies}, "trusted-proxies", "comma-separated IPs or CIDRs whose X-Forwarded-For is honoured")
	fs.StringVar(&c.SMTPURL, "smtp-url", c.SMTPURL, "SMTP server for codes: smtp://user:pass@host:port or smtps://… (in --dev without it, mail goes to the log and <data-dir>/outbox)")
	fs.StringVar(&c.SMTPStartTLS, "smtp-starttls", c.SMTPStartTLS, "STARTTLS policy: mandatory, opportunistic or none (default: mandatory, opportunistic on localhost)")
	fs.StringVar(&c.MailFrom, "mail-from", c.MailFrom, "From address of StepGate's email")
	fs.StringVar(&c.GeoIPDB, "geoip-db", c.GeoIPDB, "MaxMind-format country database (.mmdb) for audit rows")
	fs.StringVar(&c.TOTPIssuer, "totp-issuer", c.TOTPIssuer, "issuer name shown in authenticator apps")
	fs.IntVar(&c.MFALockoutThreshold, "mfa-lockout-threshold", c.MFALockoutThreshold, "consecutive wrong second-factor codes that lock the account")
	fs.DurationVar(&c.MFALockoutDuration, "mfa-lockout-duration", c.MFALockoutDuration, "how long a second-factor lock lasts")
	fs.IntVar(&c.PasswordLockoutThreshold, "password-lockout-threshold", c.PasswordLockoutThreshold, "consecutive wrong passwords that lock the account")
	fs.DurationVar(&c.PasswordLockoutDuration, "password-lockout-duration", c.PasswordLockoutDuration, "how long a password lock lasts")
	fs.IntVar(&c.PasswordIPLimit, "password-ip-limit", c.PasswordIPLimit, "password attempts allowed per client IP per window (0: no limit)")
	fs.DurationVar(&c.PasswordIPWindow, "password-ip-window", c.PasswordIPWindow, "window of --password-ip-limit")
}

// envName maps a flag name to its environment variable: --data-dir is
// STEPGATE_DATA_DIR.
func envName(flagName string) string {
	return "STEPGATE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// loadConfig builds the configuration for a subcommand. extra registers the
// subcommand's own flags; the remaining positional arguments are returned.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(fs *flag.FlagSet)) (*Config, []string, error) {
	c := defaultConfig()
	if path := configPath(args, getenv); path != "" {
		if err := c.loadYAML(path); err != nil {
			return nil, nil, err
		}
	}
	fs := flag.NewFlagSet("stepgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.bind(fs)
	// Only configuration flags come from the environment; a command's own
	// flags (--email, --on, …) must be given on its command line.
	configFlags := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { configFlags[f.Name] = true })
	if extra != nil {
		extra(fs)
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" || !configFlags[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" && envErr == nil {
			if l, ok := f.Value.(listFlag); ok {
				*l.p = nil // the environment's list replaces the file's
			}
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s: invalid value %q: %v", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return nil, nil, envErr
	}
	c.MasterKey = getenv("STEPGATE_MASTER_KEY")
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	// Only the server needs an issuer; the admin commands only need the
	// database and keys.
	if err := c.finish(name == "serve"); err != nil {
		return nil, nil, err
	}
	return &c, fs.Args(), nil
}

// parseFlags parses the command line. A list flag adds up over its
// repetitions, but a list given on the command line replaces the one from
// the environment or the file, as every other setting does.
func parseFlags(fs *flag.FlagSet, args []string) error {
	below := map[string][]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if l, ok := f.Value.(listFlag); ok {
			below[f.Name], *l.p = *l.p, nil
		}
	})
	err := fs.Parse(args)
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if l, ok := f.Value.(listFlag); ok && !given[f.Name] {
			*l.p = below[f.Name]
		}
	})
	return err
}

// configPath finds --config before full parsing, since the file's values
// must sit below the environment and the flags.
func configPath(args []string, getenv func(string) string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, p := range []string{"--config", "-config"} {
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v
			}
		}
	}
	return getenv("STEPGATE_CONFIG")
}

func (c *Config) loadYAML(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %v", path, err)
	}
	return nil
}

// finish derives defaults that depend on other settings and validates.
func (c *Config) finish(needIssuer bool) error {
	if c.AutoMigrate == nil {
		v := c.Dev
		c.AutoMigrate = &v
	}
	if c.LogFormat == "" {
		c.LogFormat = "json"
		if c.Dev {
			c.LogFormat = "text"
		}
	}
	if c.Database == "" {
		c.Database = "sqlite://" + filepath.Join(c.DataDir, "stepgate.db")
	}
	if _, err := sqlstore.ParseURL(c.Database); err != nil {
		return fmt.Errorf("--database: %v", err)
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("--listen must be host:port, e.g. 127.0.0.1:8080, not %q", c.Listen)
	}
	switch {
	case c.Issuer != "":
		if err := validateIssuer(c.Issuer, c.Dev); err != nil {
			return err
		}
	case c.Dev:
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.Issuer = "http://" + net.JoinHostPort(host, port)
		// Listening on a public address does not make plain http safe.
		if err := validateIssuer(c.Issuer, c.Dev); err != nil {
			return fmt.Errorf("%v (--dev on %s derives %s; set --issuer)", err, c.Listen, c.Issuer)
		}
	case needIssuer:
		return errors.New("--issuer is required (an absolute https URL), unless --dev")
	}
	switch c.SigningAlgorithm {
	case "RS256", "ES256":
	default:
		return fmt.Errorf("--signing-algorithm must be RS256 or ES256, not %q", c.SigningAlgorithm)
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return fmt.Errorf("--log-format must be json or text, not %q", c.LogFormat)
	}
	// newLogger would otherwise quietly log at info.
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("--log-level must be debug, info, warn or error, not %q", c.LogLevel)
	}
	for name, d := range map[string]time.Duration{
		"--access-token-lifetime": c.AccessTokenLifetime, "--id-token-lifetime": c.IDTokenLifetime,
		"--refresh-token-lifetime": c.RefreshLifetime, "--session-idle-timeout": c.SessionIdle,
		"--session-absolute-timeout": c.SessionAbsolute, "--database-timeout": c.DatabaseTimeout,
	} {
		if d <= 0 {
			return fmt.Errorf("%s must be positive", name)
		}
	}
	if c.KeyRotationDelay < 0 {
		return errors.New("--key-rotation-delay must not be negative")
	}
	if c.MFALockoutThreshold < 1 || c.MFALockoutDuration <= 0 || c.PasswordLockoutThreshold < 1 || c.PasswordLockoutDuration <= 0 {
		return errors.New("lockout thresholds and durations must be positive")
	}
	if c.PasswordIPLimit < 0 || c.PasswordIPWindow <= 0 {
		return errors.New("--password-ip-limit must not be negative and --password-ip-window must be positive")
	}
	if strings.TrimSpace(c.TOTPIssuer) == "" {
		return errors.New("--totp-issuer must not be empty")
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("--trusted-proxies: %q is neither an IP nor a CIDR", p)
			}
		}
	}
	return nil
}

// validateIssuer enforces OIDC's rule: https, no query or fragment; plain
// http only for a loopback host in --dev.
func validateIssuer(issuer string, dev bool) error {
	const msg = "issuer must be an absolute https URL, or http on localhost with --dev"
	u, err := url.Parse(issuer)
	// An empty query or fragment ("https://id.example.com?") is still one.
	if err != nil || u.Host == "" || strings.ContainsAny(issuer, "?#") || u.User != nil {
		return errors.New(msg)
	}
	if u.Scheme == "https" || (u.Scheme == "http" && dev && storage.IsLoopbackHost(u.Hostname())) {
		return nil
	}
	return errors.New(msg)
}

// insecureIssuer reports whether the issuer is plain http (dev only).
func (c *Config) insecureIssuer() bool { return strings.HasPrefix(c.Issuer, "http://") }
