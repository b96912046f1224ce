package cli

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// app holds the parts every command builds from the configuration.
type app struct {
	cfg    *Config
	log    *slog.Logger
	store  *sqlstore.Store
	master *keys.MasterKey
	keys   *keys.Manager
}

func newLogger(cfg *Config, e env) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(e.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(e.stderr, opts))
}

// open connects to the database and, unless schemaFree, makes sure the
// schema is current (migrating first when auto-migrate is on). It then loads
// the master key and the signing-key manager.
func open(ctx context.Context, cfg *Config, log *slog.Logger, migrate bool) (*app, error) {
	st, err := sqlstore.Open(ctx, cfg.Database, sqlstore.Timeout(cfg.DatabaseTimeout))
	if err != nil {
		return nil, databaseError{err}
	}
	a := &app{cfg: cfg, log: log, store: st}
	if migrate {
		applied, err := migrations.Up(ctx, st.DB(), st.Dialect(), time.Now)
		if err != nil {
			st.Close()
			return nil, err
		}
		if len(applied) > 0 {
			log.Info("applied migrations", "versions", applied)
		}
	}
	if err := migrations.Check(ctx, st.DB(), st.Dialect()); err != nil {
		st.Close()
		return nil, err
	}
	a.master, err = keys.LoadMasterKey(keys.MasterKeySource{
		File: cfg.MasterKeyFile, Value: cfg.MasterKey, Dev: cfg.Dev, DataDir: cfg.DataDir,
	}, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	alg, err := keys.ParseAlgorithm(cfg.SigningAlgorithm)
	if err != nil {
		st.Close()
		return nil, err
	}
	a.keys = &keys.Manager{
		Store: st, MasterKey: a.master, Algorithm: alg, Now: time.Now,
		RotationDelay: cfg.KeyRotationDelay,
		TokenLifetime: max(cfg.AccessTokenLifetime, cfg.IDTokenLifetime),
	}
	return a, nil
}

// openAdmin is open for an admin command, on a schema that is current: in
// --dev it first makes sure a server has left data to act on
// (checkDevData). Only serve and migrate up create a database.
func openAdmin(ctx context.Context, cfg *Config, log *slog.Logger) (*app, error) {
	if err := checkDevData(cfg); err != nil {
		return nil, err
	}
	return open(ctx, cfg, log, false)
}

func (a *app) close() { a.store.Close() }

// redactURL hides a password in a database URL for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
