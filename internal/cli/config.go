package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
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

	// MetricsListen is the address of the metrics listener; "" is none.
	MetricsListen string `yaml:"metrics_listen"`
	// Pprof serves net/http/pprof on the metrics listener.
	Pprof bool `yaml:"pprof"`
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

// configFlags are the settings as flags, taken by every command but version
// and help. Each field is nil when its flag is not on the command line, so
// loadConfig can put the command line above the environment and the file;
// it sets the Config field of the same Go name. Help shows them apart from
// a command's own flags (group "config"), on the admin commands only the
// few they need (showSettings).
type configFlags struct {
	Config          string         `name:"config" group:"config" placeholder:"FILE" help:"YAML configuration file (or STEPGATE_CONFIG)"`
	Listen          *string        `name:"listen" group:"config" placeholder:"HOST:PORT" help:"address to listen on"`
	Issuer          *string        `name:"issuer" group:"config" placeholder:"URL" help:"issuer URL (default in --dev: http://<listen>)"`
	Database        *string        `name:"database" group:"config" placeholder:"URL" help:"database URL: sqlite:///abs/path.db, sqlite://relative.db or postgres://… (default sqlite://<data-dir>/stepgate.db)"`
	DatabaseTimeout *time.Duration `name:"database-timeout" group:"config" placeholder:"DURATION" help:"bound on every database statement and transaction; past it the request fails instead of hanging"`
	DataDir         *string        `name:"data-dir" group:"config" placeholder:"DIR" help:"directory for the SQLite database, the dev master key and the dev outbox"`
	MasterKeyFile   *string        `name:"master-key-file" group:"config" placeholder:"FILE" help:"file holding the base64 32-byte master key (or set STEPGATE_MASTER_KEY)"`
	Dev             *bool          `name:"dev" group:"config" help:"development mode: http on localhost, generated master key, auto-migrate, demo accounts"`
	AutoMigrate     *bool          `name:"auto-migrate" group:"config" help:"apply pending migrations at start (default on in --dev)"`
	LogFormat       *string        `name:"log-format" group:"config" placeholder:"json|text" help:"log format: json or text (default json, text in --dev)"`
	LogLevel        *string        `name:"log-level" group:"config" placeholder:"LEVEL" help:"log level: debug, info, warn, error"`

	SigningAlgorithm    *string        `name:"signing-algorithm" group:"config" placeholder:"RS256|ES256" help:"algorithm for new signing keys: RS256 or ES256"`
	KeyRotationDelay    *time.Duration `name:"key-rotation-delay" group:"config" placeholder:"DURATION" help:"how long a rotated key is published before it signs"`
	AccessTokenLifetime *time.Duration `name:"access-token-lifetime" group:"config" placeholder:"DURATION" help:"access token lifetime"`
	IDTokenLifetime     *time.Duration `name:"id-token-lifetime" group:"config" placeholder:"DURATION" help:"ID token lifetime"`
	RefreshLifetime     *time.Duration `name:"refresh-token-lifetime" group:"config" placeholder:"DURATION" help:"refresh token lifetime"`
	SessionIdle         *time.Duration `name:"session-idle-timeout" group:"config" placeholder:"DURATION" help:"SSO session idle timeout"`
	SessionAbsolute     *time.Duration `name:"session-absolute-timeout" group:"config" placeholder:"DURATION" help:"SSO session absolute timeout"`
	TrustedProxies      listValue      `name:"trusted-proxies" group:"config" placeholder:"IP|CIDR,…" help:"comma-separated IPs or CIDRs whose X-Forwarded-For is honoured (repeatable)"`

	SMTPURL      *string `name:"smtp-url" group:"config" placeholder:"URL" help:"SMTP server for codes: smtp://user:pass@host:port or smtps://… (in --dev without it, mail goes to the log and <data-dir>/outbox)"`
	SMTPStartTLS *string `name:"smtp-starttls" group:"config" placeholder:"POLICY" help:"STARTTLS policy: mandatory, opportunistic or none (default: mandatory, opportunistic on localhost)"`
	MailFrom     *string `name:"mail-from" group:"config" placeholder:"ADDRESS" help:"From address of StepGate's email"`
	GeoIPDB      *string `name:"geoip-db" group:"config" placeholder:"FILE" help:"MaxMind-format country database (.mmdb) for audit rows"`
	TOTPIssuer   *string `name:"totp-issuer" group:"config" placeholder:"NAME" help:"issuer name shown in authenticator apps"`

	MFALockoutThreshold      *int           `name:"mfa-lockout-threshold" group:"config" placeholder:"N" help:"consecutive wrong second-factor codes that lock the account"`
	MFALockoutDuration       *time.Duration `name:"mfa-lockout-duration" group:"config" placeholder:"DURATION" help:"how long a second-factor lock lasts"`
	PasswordLockoutThreshold *int           `name:"password-lockout-threshold" group:"config" placeholder:"N" help:"consecutive wrong passwords that lock the account"`
	PasswordLockoutDuration  *time.Duration `name:"password-lockout-duration" group:"config" placeholder:"DURATION" help:"how long a password lock lasts"`
	PasswordIPLimit          *int           `name:"password-ip-limit" group:"config" placeholder:"N" help:"password attempts allowed per client IP per window (0: no limit)"`
	PasswordIPWindow         *time.Duration `name:"password-ip-window" group:"config" placeholder:"DURATION" help:"window of --password-ip-limit"`

	MetricsListen *string `name:"metrics-listen" group:"config" placeholder:"HOST:PORT" help:"address of a second listener serving Prometheus metrics at /metrics (default: none)"`
	Pprof         *bool   `name:"pprof" group:"config" help:"serve net/http/pprof at /debug/pprof/ on the metrics listener (needs --metrics-listen)"`
}

// setting is one configuration flag: its name and the Config field it sets.
type setting struct {
	name  string // the flag's name, without dashes
	field int    // index of the field in configFlags
	into  int    // index of the field of the same Go name in Config
}

// settingList pairs each configuration flag with its Config field, once.
// --config is not a setting: it says where the file is.
var settingList = func() []setting {
	ft, ct := reflect.TypeFor[configFlags](), reflect.TypeFor[Config]()
	var out []setting
	for i := range ft.NumField() {
		f := ft.Field(i)
		if f.Name == "Config" {
			continue
		}
		c, ok := ct.FieldByName(f.Name)
		if !ok {
			panic("cli: configFlags." + f.Name + " has no Config field of that name")
		}
		out = append(out, setting{name: f.Tag.Get("name"), field: i, into: c.Index[0]})
	}
	return out
}()

// settingDefaults gives each setting's default as help shows it ("" when it
// has none or it depends on other settings).
func settingDefaults() map[string]string {
	c := defaultConfig()
	cv := reflect.ValueOf(c)
	out := map[string]string{}
	for _, s := range settingList {
		switch v := cv.Field(s.into).Interface().(type) {
		case string:
			out[s.name] = v
		case int:
			out[s.name] = strconv.Itoa(v)
		case time.Duration:
			out[s.name] = shortDuration(v)
		}
	}
	return out
}

// shortDuration writes a duration as people do: 1h, not 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// envName maps a flag name to its environment variable: --data-dir is
// STEPGATE_DATA_DIR.
func envName(flagName string) string {
	return "STEPGATE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// loadConfig builds a command's configuration from, in rising precedence:
// the defaults, the YAML file (--config, else STEPGATE_CONFIG), the
// STEPGATE_* environment and the configuration flags on the command line
// (fl). Only settings come from the environment: a command's own flags
// (--email, --on, …) are on its command line or nowhere. Only the server
// needs an issuer; the admin commands only need the database and keys.
func loadConfig(fl *configFlags, getenv func(string) string, needIssuer bool) (*Config, error) {
	c := defaultConfig()
	path := fl.Config
	if path == "" {
		path = getenv("STEPGATE_CONFIG")
	}
	if path != "" {
		if err := c.loadYAML(path); err != nil {
			return nil, err
		}
	}
	cv := reflect.ValueOf(&c).Elem()
	for _, s := range settingList {
		name := envName(s.name)
		if v := getenv(name); v != "" {
			if err := setFromEnv(cv.Field(s.into), v); err != nil {
				return nil, fmt.Errorf("%s: invalid value %q: %v", name, v, err)
			}
		}
	}
	fv := reflect.ValueOf(fl).Elem()
	for _, s := range settingList {
		v, to := fv.Field(s.field), cv.Field(s.into)
		switch {
		case v.IsNil(): // not on the command line
		case v.Type() == to.Type(): // *bool
			to.Set(v)
		case v.Kind() == reflect.Pointer:
			to.Set(v.Elem())
		default: // a list given on the command line replaces the lower one
			to.Set(v.Convert(to.Type()))
		}
	}
	c.MasterKey = getenv("STEPGATE_MASTER_KEY")
	if err := c.finish(needIssuer); err != nil {
		return nil, err
	}
	return &c, nil
}

// setFromEnv parses an environment variable into a Config field as its
// flag would.
func setFromEnv(to reflect.Value, s string) error {
	switch to.Interface().(type) {
	case string:
		to.SetString(s)
	case time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		to.SetInt(int64(d))
	case int:
		n, err := strconv.ParseInt(s, 0, strconv.IntSize)
		if err != nil {
			return err
		}
		to.SetInt(n)
	case bool, *bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		if to.Kind() == reflect.Pointer {
			to.Set(reflect.ValueOf(&b))
		} else {
			to.SetBool(b)
		}
	case []string:
		// The environment's list replaces the file's.
		to.Set(reflect.ValueOf([]string(splitList(s))))
	default:
		panic("cli: no environment parser for " + to.Type().String())
	}
	return nil
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
	if err := c.checkMetrics(port); err != nil {
		return err
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

// checkMetrics validates the metrics listener against the main one, which
// listens on listenPort.
func (c *Config) checkMetrics(listenPort string) error {
	if c.MetricsListen == "" {
		if c.Pprof {
			return errors.New("--pprof needs --metrics-listen: profiles are served only on the metrics listener")
		}
		return nil
	}
	host, port, err := net.SplitHostPort(c.MetricsListen)
	if err != nil || port == "" {
		return fmt.Errorf("--metrics-listen must be host:port, e.g. 127.0.0.1:9090, not %q", c.MetricsListen)
	}
	listenHost, _, _ := net.SplitHostPort(c.Listen)
	anyHost := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	if port == listenPort && port != "0" && (host == listenHost || anyHost(host) || anyHost(listenHost)) {
		return fmt.Errorf("--metrics-listen %s is --listen's address: metrics are served on a listener of their own", c.MetricsListen)
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
