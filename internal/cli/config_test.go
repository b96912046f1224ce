package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeEnv is a getenv over a map, so no test sees the real environment.
func fakeEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// writeYAML writes a config file into a fresh temporary directory.
func writeYAML(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stepgate.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// load parses a command line as Run does, "serve" and args, and returns
// its configuration.
func load(args []string, vars map[string]string) (*Config, error) {
	return loadCommand("serve", args, vars)
}

// loadCommand parses the command at path ("user list") with args.
func loadCommand(path string, args []string, vars map[string]string) (*Config, error) {
	p, err := parse(env{stdout: io.Discard, stderr: io.Discard, getenv: fakeEnv(vars)}, append(strings.Fields(path), args...))
	if err != nil {
		return nil, err
	}
	return p.cfg, nil
}

func mustLoad(t *testing.T, args []string, env map[string]string) *Config {
	t.Helper()
	c, err := load(args, env)
	if err != nil {
		t.Fatalf("loadConfig(%q, env %v): %v", args, env, err)
	}
	return c
}

func TestConfigDefaults(t *testing.T) {
	t.Run("outside dev every setting has its documented default", func(t *testing.T) {
		got := mustLoad(t, []string{"--issuer", "https://id.example.com"}, nil)
		off := false
		want := &Config{
			Listen:              "127.0.0.1:8080",
			Issuer:              "https://id.example.com",
			Database:            "sqlite://data/stepgate.db",
			DataDir:             "./data",
			DatabaseTimeout:     5 * time.Second,
			AutoMigrate:         &off,
			LogFormat:           "json",
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
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("config =\n%+v\nwant\n%+v", *got, *want)
		}
	})

	tests := []struct {
		name        string
		args        []string
		issuer      string
		database    string
		autoMigrate bool
		logFormat   string
	}{
		{
			name:   "dev derives the issuer from the listen address, migrates and logs text",
			args:   []string{"--dev"},
			issuer: "http://127.0.0.1:8080", database: "sqlite://data/stepgate.db",
			autoMigrate: true, logFormat: "text",
		},
		{
			name:   "dev on 0.0.0.0 derives a localhost issuer on the same port",
			args:   []string{"--dev", "--listen", "0.0.0.0:9000"},
			issuer: "http://localhost:9000", database: "sqlite://data/stepgate.db",
			autoMigrate: true, logFormat: "text",
		},
		{
			name:   "dev on an empty host derives a localhost issuer",
			args:   []string{"--dev", "--listen", ":9001"},
			issuer: "http://localhost:9001", database: "sqlite://data/stepgate.db",
			autoMigrate: true, logFormat: "text",
		},
		{
			name:   "dev on [::] derives a localhost issuer",
			args:   []string{"--dev", "--listen", "[::]:9002"},
			issuer: "http://localhost:9002", database: "sqlite://data/stepgate.db",
			autoMigrate: true, logFormat: "text",
		},
		{
			name:   "dev on IPv6 loopback keeps the brackets",
			args:   []string{"--dev", "--listen", "[::1]:9003"},
			issuer: "http://[::1]:9003", database: "sqlite://data/stepgate.db",
			autoMigrate: true, logFormat: "text",
		},
		{
			name:   "the derived database follows --data-dir",
			args:   []string{"--dev", "--data-dir", "/srv/stepgate"},
			issuer: "http://127.0.0.1:8080", database: "sqlite:///srv/stepgate/stepgate.db",
			autoMigrate: true, logFormat: "text",
		},
		{
			name:   "an explicit --database is kept",
			args:   []string{"--dev", "--data-dir", "/srv/stepgate", "--database", "postgres://db/stepgate"},
			issuer: "http://127.0.0.1:8080", database: "postgres://db/stepgate",
			autoMigrate: true, logFormat: "text",
		},
		{
			name:   "an explicit issuer in dev is kept",
			args:   []string{"--dev", "--issuer", "https://id.example.com/tenant"},
			issuer: "https://id.example.com/tenant", database: "sqlite://data/stepgate.db",
			autoMigrate: true, logFormat: "text",
		},
		{
			name:   "--auto-migrate=false with --dev stays false",
			args:   []string{"--dev", "--auto-migrate=false"},
			issuer: "http://127.0.0.1:8080", database: "sqlite://data/stepgate.db",
			autoMigrate: false, logFormat: "text",
		},
		{
			name:   "--auto-migrate without --dev is on",
			args:   []string{"--issuer", "https://id.example.com", "--auto-migrate"},
			issuer: "https://id.example.com", database: "sqlite://data/stepgate.db",
			autoMigrate: true, logFormat: "json",
		},
		{
			name:   "--log-format json in dev is kept",
			args:   []string{"--dev", "--log-format", "json"},
			issuer: "http://127.0.0.1:8080", database: "sqlite://data/stepgate.db",
			autoMigrate: true, logFormat: "json",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, tc.args, nil)
			if c.Issuer != tc.issuer {
				t.Errorf("Issuer = %q, want %q", c.Issuer, tc.issuer)
			}
			if c.Database != tc.database {
				t.Errorf("Database = %q, want %q", c.Database, tc.database)
			}
			if c.AutoMigrate == nil || *c.AutoMigrate != tc.autoMigrate {
				t.Errorf("AutoMigrate = %v, want %v", c.AutoMigrate, tc.autoMigrate)
			}
			if c.LogFormat != tc.logFormat {
				t.Errorf("LogFormat = %q, want %q", c.LogFormat, tc.logFormat)
			}
			if c.insecureIssuer() != strings.HasPrefix(tc.issuer, "http://") {
				t.Errorf("insecureIssuer() = %v for %q", c.insecureIssuer(), tc.issuer)
			}
		})
	}
}

// TestConfigPrecedence gives each setting in the YAML file, the environment
// and on the command line, one layer at a time, and checks the highest layer
// wins: flag > env > YAML > default. All run with --dev so the issuer may
// be left out.
func TestConfigPrecedence(t *testing.T) {
	settings := []struct {
		flag                             string // flag name; the env name is derived
		yaml                             string // the YAML line setting it
		env, arg                         string
		get                              func(*Config) any
		def, fromYAML, fromEnv, fromFlag any
	}{
		{
			flag: "listen", yaml: "listen: 127.0.0.1:7001", env: "127.0.0.1:7002", arg: "127.0.0.1:7003",
			get: func(c *Config) any { return c.Listen },
			def: "127.0.0.1:8080", fromYAML: "127.0.0.1:7001", fromEnv: "127.0.0.1:7002", fromFlag: "127.0.0.1:7003",
		},
		{
			flag: "issuer", yaml: "issuer: https://yaml.example.com", env: "https://env.example.com", arg: "https://flag.example.com",
			get: func(c *Config) any { return c.Issuer },
			def: "http://127.0.0.1:8080", fromYAML: "https://yaml.example.com", fromEnv: "https://env.example.com", fromFlag: "https://flag.example.com",
		},
		{
			flag: "data-dir", yaml: "data_dir: /yaml", env: "/env", arg: "/flag",
			get:      func(c *Config) any { return [2]string{c.DataDir, c.Database} },
			def:      [2]string{"./data", "sqlite://data/stepgate.db"},
			fromYAML: [2]string{"/yaml", "sqlite:///yaml/stepgate.db"},
			fromEnv:  [2]string{"/env", "sqlite:///env/stepgate.db"},
			fromFlag: [2]string{"/flag", "sqlite:///flag/stepgate.db"},
		},
		{
			flag: "database", yaml: "database: postgres://yaml/sg", env: "postgres://env/sg", arg: "sqlite:///flag.db",
			get: func(c *Config) any { return c.Database },
			def: "sqlite://data/stepgate.db", fromYAML: "postgres://yaml/sg", fromEnv: "postgres://env/sg", fromFlag: "sqlite:///flag.db",
		},
		{
			flag: "master-key-file", yaml: "master_key_file: /yaml.key", env: "/env.key", arg: "/flag.key",
			get: func(c *Config) any { return c.MasterKeyFile },
			def: "", fromYAML: "/yaml.key", fromEnv: "/env.key", fromFlag: "/flag.key",
		},
		{
			flag: "auto-migrate", yaml: "auto_migrate: false", env: "true", arg: "false",
			get: func(c *Config) any { return *c.AutoMigrate },
			def: true, fromYAML: false, fromEnv: true, fromFlag: false,
		},
		{
			flag: "log-format", yaml: "log_format: json", env: "text", arg: "json",
			get: func(c *Config) any { return c.LogFormat },
			def: "text", fromYAML: "json", fromEnv: "text", fromFlag: "json",
		},
		{
			flag: "log-level", yaml: "log_level: debug", env: "warn", arg: "error",
			get: func(c *Config) any { return c.LogLevel },
			def: "info", fromYAML: "debug", fromEnv: "warn", fromFlag: "error",
		},
		{
			flag: "signing-algorithm", yaml: "signing_algorithm: ES256", env: "RS256", arg: "ES256",
			get: func(c *Config) any { return c.SigningAlgorithm },
			def: "RS256", fromYAML: "ES256", fromEnv: "RS256", fromFlag: "ES256",
		},
		{
			flag: "database-timeout", yaml: "database_timeout: 1s", env: "2s", arg: "3s",
			get: func(c *Config) any { return c.DatabaseTimeout },
			def: 5 * time.Second, fromYAML: time.Second, fromEnv: 2 * time.Second, fromFlag: 3 * time.Second,
		},
		{
			flag: "key-rotation-delay", yaml: "key_rotation_delay: 1h", env: "2h", arg: "0s",
			get: func(c *Config) any { return c.KeyRotationDelay },
			def: 24 * time.Hour, fromYAML: time.Hour, fromEnv: 2 * time.Hour, fromFlag: time.Duration(0),
		},
		{
			flag: "access-token-lifetime", yaml: "access_token_lifetime: 1m", env: "2m", arg: "3m",
			get: func(c *Config) any { return c.AccessTokenLifetime },
			def: 15 * time.Minute, fromYAML: time.Minute, fromEnv: 2 * time.Minute, fromFlag: 3 * time.Minute,
		},
		{
			flag: "id-token-lifetime", yaml: "id_token_lifetime: 1m", env: "2m", arg: "3m",
			get: func(c *Config) any { return c.IDTokenLifetime },
			def: time.Hour, fromYAML: time.Minute, fromEnv: 2 * time.Minute, fromFlag: 3 * time.Minute,
		},
		{
			flag: "refresh-token-lifetime", yaml: "refresh_token_lifetime: 1h", env: "2h", arg: "3h",
			get: func(c *Config) any { return c.RefreshLifetime },
			def: 30 * 24 * time.Hour, fromYAML: time.Hour, fromEnv: 2 * time.Hour, fromFlag: 3 * time.Hour,
		},
		{
			flag: "session-idle-timeout", yaml: "session_idle_timeout: 1m", env: "2m", arg: "3m",
			get: func(c *Config) any { return c.SessionIdle },
			def: 30 * time.Minute, fromYAML: time.Minute, fromEnv: 2 * time.Minute, fromFlag: 3 * time.Minute,
		},
		{
			flag: "session-absolute-timeout", yaml: "session_absolute_timeout: 1h", env: "2h", arg: "3h",
			get: func(c *Config) any { return c.SessionAbsolute },
			def: 12 * time.Hour, fromYAML: time.Hour, fromEnv: 2 * time.Hour, fromFlag: 3 * time.Hour,
		},
		{
			// A list from a higher layer replaces the lower one; it does
			// not add to it.
			flag: "trusted-proxies", yaml: "trusted_proxies: [10.0.0.1, 10.1.0.0/16]", env: "10.0.0.2", arg: "10.0.0.3,10.0.0.4",
			get: func(c *Config) any { return c.TrustedProxies },
			def: []string(nil), fromYAML: []string{"10.0.0.1", "10.1.0.0/16"},
			fromEnv: []string{"10.0.0.2"}, fromFlag: []string{"10.0.0.3", "10.0.0.4"},
		},
		{
			flag: "metrics-listen", yaml: "metrics_listen: 127.0.0.1:9001", env: "127.0.0.1:9002", arg: "127.0.0.1:9003",
			get: func(c *Config) any { return c.MetricsListen },
			def: "", fromYAML: "127.0.0.1:9001", fromEnv: "127.0.0.1:9002", fromFlag: "127.0.0.1:9003",
		},
	}
	for _, s := range settings {
		layers := []struct {
			name          string
			yaml, env, fl bool
			want          any
		}{
			{"default when unset", false, false, false, s.def},
			{"YAML beats default", true, false, false, s.fromYAML},
			{"env beats YAML", true, true, false, s.fromEnv},
			{"flag beats env and YAML", true, true, true, s.fromFlag},
			{"flag beats YAML", true, false, true, s.fromFlag},
		}
		for _, l := range layers {
			t.Run(s.flag+"/"+l.name, func(t *testing.T) {
				args := []string{"--dev"}
				env := map[string]string{}
				if l.yaml {
					args = append(args, "--config", writeYAML(t, s.yaml+"\n"))
				}
				if l.env {
					env[envName(s.flag)] = s.env
				}
				if l.fl {
					args = append(args, "--"+s.flag+"="+s.arg)
				}
				if got := s.get(mustLoad(t, args, env)); !reflect.DeepEqual(got, l.want) {
					t.Fatalf("%s = %#v, want %#v", s.flag, got, l.want)
				}
			})
		}
	}
}

// The metrics listener is off unless --metrics-listen is set, is never the
// main listener's address, and profiling is only served on it.
func TestConfigMetricsListener(t *testing.T) {
	accepted := []struct {
		name    string
		args    []string
		env     map[string]string
		listen  string
		profile bool
	}{
		{"off by default", []string{"--dev"}, nil, "", false},
		{"a flag", []string{"--dev", "--metrics-listen", "127.0.0.1:9090"}, nil, "127.0.0.1:9090", false},
		{"with --pprof", []string{"--dev", "--metrics-listen", "127.0.0.1:9090", "--pprof"}, nil, "127.0.0.1:9090", true},
		{"from the environment", []string{"--dev"},
			map[string]string{"STEPGATE_METRICS_LISTEN": "[::1]:9090", "STEPGATE_PPROF": "true"}, "[::1]:9090", true},
		{"from the file", []string{"--config", writeYAML(t, "dev: true\nmetrics_listen: 127.0.0.1:9090\npprof: true\n")},
			nil, "127.0.0.1:9090", true},
		{"--pprof=false without a listener", []string{"--dev", "--pprof=false"}, nil, "", false},
		{"the main listener's port on another host", []string{"--dev", "--metrics-listen", "127.0.0.2:8080"}, nil, "127.0.0.2:8080", false},
		{"any free port", []string{"--dev", "--metrics-listen", "127.0.0.1:0"}, nil, "127.0.0.1:0", false},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, tc.args, tc.env)
			if c.MetricsListen != tc.listen || c.Pprof != tc.profile {
				t.Fatalf("MetricsListen, Pprof = %q, %v; want %q, %v", c.MetricsListen, c.Pprof, tc.listen, tc.profile)
			}
		})
	}

	const needsListener = "--pprof needs --metrics-listen: profiles are served only on the metrics listener"
	refused := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"--pprof without a listener", []string{"--dev", "--pprof"}, nil, needsListener},
		{"STEPGATE_PPROF without a listener", []string{"--dev"}, map[string]string{"STEPGATE_PPROF": "1"}, needsListener},
		{"pprof in the file without a listener", []string{"--config", writeYAML(t, "dev: true\npprof: true\n")}, nil, needsListener},
		{"a port alone", []string{"--dev", "--metrics-listen", "9090"}, nil,
			`--metrics-listen must be host:port, e.g. 127.0.0.1:9090, not "9090"`},
		{"no port", []string{"--dev", "--metrics-listen", "127.0.0.1:"}, nil, "--metrics-listen must be host:port"},
		{"the main listener's address", []string{"--dev", "--metrics-listen", "127.0.0.1:8080"}, nil,
			"--metrics-listen 127.0.0.1:8080 is --listen's address: metrics are served on a listener of their own"},
		{"every host on the main listener's port", []string{"--dev", "--metrics-listen", ":8080"}, nil, "is --listen's address"},
		{"the main listener on every host", []string{"--dev", "--listen", "0.0.0.0:9000", "--metrics-listen", "127.0.0.1:9000"},
			nil, "is --listen's address"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(tc.args, tc.env)
			if err == nil {
				t.Fatalf("loadConfig(%q) = %+v, want an error", tc.args, *c)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestConfigFileLocation(t *testing.T) {
	fromFile := writeYAML(t, "dev: true\nlisten: 127.0.0.1:7100\n")
	other := writeYAML(t, "dev: true\nlisten: 127.0.0.1:7200\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"--config path", []string{"--config", fromFile}, nil, "127.0.0.1:7100"},
		{"--config=path", []string{"--config=" + fromFile}, nil, "127.0.0.1:7100"},
		{"--config after other flags", []string{"--log-level", "debug", "--config", fromFile}, nil, "127.0.0.1:7100"},
		{"STEPGATE_CONFIG", nil, map[string]string{"STEPGATE_CONFIG": fromFile}, "127.0.0.1:7100"},
		{"--config beats STEPGATE_CONFIG", []string{"--config", other}, map[string]string{"STEPGATE_CONFIG": fromFile}, "127.0.0.1:7200"},
		{"an empty file changes nothing", []string{"--dev", "--config", writeYAML(t, "")}, nil, "127.0.0.1:8080"},
		{"a comment-only file changes nothing", []string{"--dev", "--config", writeYAML(t, "# nothing yet\n")}, nil, "127.0.0.1:8080"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, tc.args, tc.env)
			if c.Listen != tc.want {
				t.Fatalf("Listen = %q, want %q", c.Listen, tc.want)
			}
		})
	}
}

func TestConfigEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "STEPGATE_DATA_DIR sets --data-dir",
			env:  map[string]string{"STEPGATE_DEV": "true", "STEPGATE_DATA_DIR": "/var/lib/stepgate"},
			check: func(t *testing.T, c *Config) {
				if c.DataDir != "/var/lib/stepgate" || c.Database != "sqlite:///var/lib/stepgate/stepgate.db" {
					t.Fatalf("DataDir, Database = %q, %q", c.DataDir, c.Database)
				}
			},
		},
		{
			name: "STEPGATE_DEV=true turns on dev mode",
			env:  map[string]string{"STEPGATE_DEV": "true"},
			check: func(t *testing.T, c *Config) {
				if !c.Dev || !*c.AutoMigrate || c.LogFormat != "text" || c.Issuer != "http://127.0.0.1:8080" {
					t.Fatalf("Dev %v, AutoMigrate %v, LogFormat %q, Issuer %q", c.Dev, *c.AutoMigrate, c.LogFormat, c.Issuer)
				}
			},
		},
		{
			name: "STEPGATE_DEV=1 is true too",
			env:  map[string]string{"STEPGATE_DEV": "1"},
			check: func(t *testing.T, c *Config) {
				if !c.Dev {
					t.Fatal("Dev = false")
				}
			},
		},
		{
			name: "--dev=false beats STEPGATE_DEV=true",
			args: []string{"--dev=false", "--issuer", "https://id.example.com"},
			env:  map[string]string{"STEPGATE_DEV": "true"},
			check: func(t *testing.T, c *Config) {
				if c.Dev || *c.AutoMigrate || c.LogFormat != "json" {
					t.Fatalf("Dev %v, AutoMigrate %v, LogFormat %q", c.Dev, *c.AutoMigrate, c.LogFormat)
				}
			},
		},
		{
			name: "STEPGATE_AUTO_MIGRATE=false with --dev stays false",
			args: []string{"--dev"},
			env:  map[string]string{"STEPGATE_AUTO_MIGRATE": "false"},
			check: func(t *testing.T, c *Config) {
				if *c.AutoMigrate {
					t.Fatal("AutoMigrate = true")
				}
			},
		},
		{
			name: "an empty variable is the same as an unset one",
			args: []string{"--dev"},
			env:  map[string]string{"STEPGATE_LISTEN": "", "STEPGATE_ACCESS_TOKEN_LIFETIME": ""},
			check: func(t *testing.T, c *Config) {
				if c.Listen != "127.0.0.1:8080" || c.AccessTokenLifetime != 15*time.Minute {
					t.Fatalf("Listen %q, AccessTokenLifetime %v", c.Listen, c.AccessTokenLifetime)
				}
			},
		},
		{
			name: "repeated --trusted-proxies add up",
			args: []string{"--dev", "--trusted-proxies", "10.0.0.1", "--trusted-proxies", "10.0.0.2, 192.168.0.0/24"},
			env:  map[string]string{"STEPGATE_TRUSTED_PROXIES": "172.16.0.1"},
			check: func(t *testing.T, c *Config) {
				want := []string{"10.0.0.1", "10.0.0.2", "192.168.0.0/24"}
				if !reflect.DeepEqual(c.TrustedProxies, want) {
					t.Fatalf("TrustedProxies = %q, want %q", c.TrustedProxies, want)
				}
			},
		},
		{
			name: "STEPGATE_MASTER_KEY is read into MasterKey",
			args: []string{"--dev"},
			env:  map[string]string{"STEPGATE_MASTER_KEY": "c2VjcmV0"},
			check: func(t *testing.T, c *Config) {
				if c.MasterKey != "c2VjcmV0" {
					t.Fatalf("MasterKey = %q", c.MasterKey)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, mustLoad(t, tc.args, tc.env))
		})
	}
}

func TestConfigMasterKeyIsOnlyReadFromTheEnvironment(t *testing.T) {
	flags := map[string]bool{}
	for _, s := range settingList {
		flags[s.name] = true
	}
	if flags["master-key"] {
		t.Fatal("there is a --master-key flag; a secret does not belong on a command line")
	}
	if !flags["master-key-file"] {
		t.Fatal("there is no --master-key-file flag")
	}
	if _, err := load([]string{"--dev", "--master-key", "c2VjcmV0"}, nil); err == nil ||
		!strings.Contains(err.Error(), "unknown flag --master-key") {
		t.Fatalf("--master-key: err = %v, want an unknown-flag error", err)
	}
	path := writeYAML(t, "dev: true\nmaster_key: c2VjcmV0\n")
	if _, err := load([]string{"--config", path}, nil); err == nil ||
		!strings.Contains(err.Error(), "master_key") {
		t.Fatalf("master_key in YAML: err = %v, want an unknown-field error", err)
	}
}

// A command's own flags and arguments go anywhere among the configuration
// flags, and they are not read from the environment.
func TestConfigPositionalArgumentsAndOwnFlags(t *testing.T) {
	for _, args := range [][]string{
		{"client", "set-factors", "--dev", "CLIENT_ID", "--otp=on"}, // the README's order
		{"client", "set-factors", "CLIENT_ID", "--otp=on", "--dev"},
		{"client", "set-factors", "--otp", "on", "--dev", "CLIENT_ID"},
		{"client", "set-factors", "--dev", "--otp=on", "--", "CLIENT_ID"},
	} {
		p, err := parse(env{stdout: io.Discard, stderr: io.Discard, getenv: fakeEnv(nil)}, args)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		c, ok := p.cmd.(*clientSetFactorsCmd)
		if !ok || c.ClientID != "CLIENT_ID" || c.OTP.v == nil || !*c.OTP.v || c.Email.v != nil || !p.cfg.Dev {
			t.Fatalf("%q: parsed %+v, config dev %v", args, p.cmd, p.cfg.Dev)
		}
	}
	p, err := parse(env{stdout: io.Discard, stderr: io.Discard,
		getenv: fakeEnv(map[string]string{"STEPGATE_EMAIL": "env@example.com", "STEPGATE_NAME": "Env"})},
		[]string{"user", "create", "--dev"})
	if err != nil {
		t.Fatal(err)
	}
	if c := p.cmd.(*userCreateCmd); c.Email != "" || c.Name != "" {
		t.Fatalf("the environment set a command's own flags: --email %q --name %q", c.Email, c.Name)
	}
}

func TestConfigAdminCommandsNeedNoIssuer(t *testing.T) {
	for _, name := range []string{"migrate status", "keys list", "user list", "client list"} {
		t.Run(name+" loads without an issuer", func(t *testing.T) {
			c, err := loadCommand(name, nil, nil)
			if err != nil {
				t.Fatalf("loadConfig(%q): %v", name, err)
			}
			if c.Issuer != "" {
				t.Fatalf("Issuer = %q, want none", c.Issuer)
			}
		})
		t.Run(name+" still rejects a bad issuer", func(t *testing.T) {
			_, err := loadCommand(name, []string{"--issuer", "http://example.com"}, nil)
			if err == nil || !strings.Contains(err.Error(), "issuer must be an absolute https URL") {
				t.Fatalf("err = %v, want the issuer rule", err)
			}
		})
	}
}

func TestConfigIssuerAccepted(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"https with a path", []string{"--issuer", "https://id.example.com/realms/main"}},
		{"https with a port", []string{"--issuer", "https://id.example.com:8443"}},
		{"http on localhost with --dev", []string{"--dev", "--issuer", "http://localhost:8080"}},
		{"http on 127.0.0.1 with --dev", []string{"--dev", "--issuer", "http://127.0.0.1:8080"}},
		{"http on [::1] with --dev", []string{"--dev", "--issuer", "http://[::1]:8080"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { mustLoad(t, tc.args, nil) })
	}
}

func TestConfigErrors(t *testing.T) {
	const issuerMsg = "issuer must be an absolute https URL, or http on localhost with --dev"
	https := []string{"--issuer", "https://id.example.com"}
	with := func(a ...string) []string { return append(append([]string{}, https...), a...) }
	unknownKey := writeYAML(t, "dev: true\nlisen: 127.0.0.1:8080\n")
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"YAML with an unknown key names the file and the key", []string{"--config", unknownKey}, nil, []string{unknownKey, "lisen"}},
		{"a missing config file names the file", []string{"--config", missing}, nil, []string{missing}},
		{"a missing STEPGATE_CONFIG file names the file", nil, map[string]string{"STEPGATE_CONFIG": missing}, []string{missing}},
		{"YAML that is not a mapping", []string{"--config", writeYAML(t, "- listen\n")}, nil, []string{"config file"}},
		{"a YAML duration without a unit", []string{"--config", writeYAML(t, "dev: true\naccess_token_lifetime: 900\n")}, nil, []string{"config file"}},

		{"issuer missing outside dev", nil, nil, []string{"--issuer is required"}},
		{"issuer http on a public host", []string{"--issuer", "http://example.com"}, nil, []string{issuerMsg}},
		{"issuer http on a public host even with --dev", []string{"--dev", "--issuer", "http://example.com"}, nil, []string{issuerMsg}},
		{"issuer http on localhost without --dev", []string{"--issuer", "http://localhost:8080"}, nil, []string{issuerMsg}},
		{"issuer http on 127.0.0.1 without --dev", []string{"--issuer", "http://127.0.0.1:8080"}, nil, []string{issuerMsg}},
		{"issuer with a query", []string{"--issuer", "https://id.example.com/?tenant=a"}, nil, []string{issuerMsg}},
		{"issuer with an empty query", []string{"--issuer", "https://id.example.com?"}, nil, []string{issuerMsg}},
		{"issuer with a fragment", []string{"--issuer", "https://id.example.com/#x"}, nil, []string{issuerMsg}},
		{"issuer with an empty fragment", []string{"--issuer", "https://id.example.com#"}, nil, []string{issuerMsg}},
		{"issuer with user info", []string{"--issuer", "https://me@id.example.com"}, nil, []string{issuerMsg}},
		{"issuer without a host", []string{"--issuer", "https:///path"}, nil, []string{issuerMsg}},
		{"relative issuer", []string{"--issuer", "id.example.com"}, nil, []string{issuerMsg}},
		{"issuer with another scheme", []string{"--issuer", "ftp://id.example.com"}, nil, []string{issuerMsg}},
		{"dev on a public listen address cannot derive an issuer", []string{"--dev", "--listen", "192.0.2.1:8080"}, nil, []string{issuerMsg}},

		{"database with an unknown scheme", with("--database", "mysql://db/stepgate"), nil, []string{"--database", "sqlite://", "postgres://"}},
		{"sqlite database without a path", with("--database", "sqlite://"), nil, []string{"--database", "file path"}},
		{"listen without a port", with("--listen", "localhost"), nil, []string{"--listen must be host:port", `"localhost"`}},
		{"signing algorithm not offered", with("--signing-algorithm", "HS256"), nil, []string{"--signing-algorithm must be RS256 or ES256", `"HS256"`}},
		{"unknown log format", with("--log-format", "xml"), nil, []string{"--log-format must be json or text"}},
		{"unknown log level", with("--log-level", "loud"), nil, []string{"--log-level", `"loud"`}},
		{"zero access token lifetime", with("--access-token-lifetime", "0s"), nil, []string{"--access-token-lifetime must be positive"}},
		{"negative ID token lifetime", with("--id-token-lifetime=-1m"), nil, []string{"--id-token-lifetime must be positive"}},
		{"zero refresh token lifetime", with("--refresh-token-lifetime", "0s"), nil, []string{"--refresh-token-lifetime must be positive"}},
		{"zero session idle timeout", with("--session-idle-timeout", "0s"), nil, []string{"--session-idle-timeout must be positive"}},
		{"negative session absolute timeout from YAML", []string{"--config", writeYAML(t, "issuer: https://id.example.com\nsession_absolute_timeout: -1h\n")}, nil, []string{"--session-absolute-timeout must be positive"}},
		{"negative key rotation delay", with("--key-rotation-delay=-1h"), nil, []string{"--key-rotation-delay must not be negative"}},
		{"trusted proxy that is a name", with("--trusted-proxies", "proxy.internal"), nil, []string{"--trusted-proxies", `"proxy.internal"`}},
		{"trusted proxy with a bad mask", with("--trusted-proxies", "10.0.0.0/33"), nil, []string{"--trusted-proxies", `"10.0.0.0/33"`}},

		{"an invalid duration in the environment names the variable", https, map[string]string{"STEPGATE_ACCESS_TOKEN_LIFETIME": "banana"}, []string{"STEPGATE_ACCESS_TOKEN_LIFETIME", "banana"}},
		{"an invalid bool in the environment names the variable", nil, map[string]string{"STEPGATE_DEV": "banana"}, []string{"STEPGATE_DEV", "banana"}},
		{"an invalid STEPGATE_AUTO_MIGRATE names the variable", https, map[string]string{"STEPGATE_AUTO_MIGRATE": "sometimes"}, []string{"STEPGATE_AUTO_MIGRATE"}},
		{"an invalid value in the environment is an error even when a flag overrides it", with("--access-token-lifetime", "5m"), map[string]string{"STEPGATE_ACCESS_TOKEN_LIFETIME": "banana"}, []string{"STEPGATE_ACCESS_TOKEN_LIFETIME"}},
		{"an invalid flag value", with("--access-token-lifetime", "banana"), nil, []string{"access-token-lifetime"}},
		{"an unknown flag", with("--lisen", ":8080"), nil, []string{"unknown flag --lisen"}},
		{"a flag with one dash", with("-config", "x.yaml"), nil, []string{"unknown flag -config", "--config"}},
		{"a flag without its value", with("--listen"), nil, []string{"--listen needs a value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(tc.args, tc.env)
			if err == nil {
				t.Fatalf("loadConfig(%q) = %+v, want an error", tc.args, *c)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		code        int
		stdout      string
		stderr      string
		quietStdout bool // stdout must stay empty
	}{
		{name: "no arguments print the usage and exit 2", args: nil, code: 2, stderr: "Usage:", quietStdout: true},
		{name: "version exits 0", args: []string{"version"}, code: 0, stdout: "stepgate " + version},
		{name: "help exits 0", args: []string{"help"}, code: 0, stdout: "Usage:"},
		{name: "an unknown command exits 2", args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`, quietStdout: true},
		{
			name: "serve with an http public issuer exits 2 before starting anything",
			args: []string{"serve", "--issuer", "http://example.com"}, code: 2,
			stderr:      "issuer must be an absolute https URL, or http on localhost with --dev",
			quietStdout: true,
		},
		{
			name: "serve without an issuer outside dev exits 2",
			args: []string{"serve"}, code: 2, stderr: "--issuer is required", quietStdout: true,
		},
		{
			name: "serve with a missing config file exits 2",
			args: []string{"serve", "--config", filepath.Join(t.TempDir(), "nope.yaml")}, code: 2,
			stderr: "nope.yaml", quietStdout: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			code := run(ctx, tc.args, strings.NewReader(""), &stdout, &stderr, fakeEnv(nil))
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, &stdout, &stderr)
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout %q does not contain %q", &stdout, tc.stdout)
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q does not contain %q", &stderr, tc.stderr)
			}
			if tc.quietStdout && stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", &stdout)
			}
		})
	}
}
