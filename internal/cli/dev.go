package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// Dev accounts created on the first --dev start.
const (
	devOwnerEmail  = "owner@stepgate.localhost"
	devRedirectURI = "http://127.0.0.1:9000/callback"
)

// devBootstrap creates an owner and a demo client on an empty database and
// prints their credentials once; later starts find them and print nothing.
func devBootstrap(ctx context.Context, a *app, e env) error {
	svc, actor := adminService(a, e)
	users, err := svc.ListUsers(ctx, admin.ListUsersInput{Limit: 1})
	if err != nil || users.Total > 0 {
		return err
	}
	password := op.NewSecret()[:20]
	if _, err := svc.CreateUser(ctx, actor, admin.CreateUserInput{Email: devOwnerEmail,
		Name: "Dev Owner", Role: string(storage.RoleOwner), Password: password}); err != nil {
		return adminError(err)
	}
	demo, err := svc.CreateClient(ctx, actor, admin.CreateClientInput{Name: "Demo app",
		RedirectURIs: []string{devRedirectURI}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:9000/"}})
	if err != nil {
		return adminError(err)
	}
	fmt.Fprintf(e.stdout, `
Development accounts (shown once):
  owner:         %s / %s
  demo client:   client_id=%s client_secret=%s
                 redirect_uri=%s
`, devOwnerEmail, password, demo.Client.ID, demo.Secret, devRedirectURI)
	return nil
}

// checkDevData refuses to run an admin command in --dev where `serve --dev`
// has left no data: the SQLite file, or with another database (unless a
// master key is given) the generated master key in the data directory.
// Without it the command would create an empty database, or a new master
// key that opens nothing the server sealed, and report on that.
func checkDevData(cfg *Config) error {
	if !cfg.Dev {
		return nil
	}
	missing := fmt.Errorf("no StepGate data in %s: run `stepgate serve --dev` first, or pass --data-dir", cfg.DataDir)
	loc, err := sqlstore.ParseURL(cfg.Database)
	if err != nil {
		return err
	}
	if loc.Path != "" {
		if _, err := os.Stat(loc.Path); err != nil {
			if filepath.Dir(filepath.Clean(loc.Path)) != filepath.Clean(cfg.DataDir) {
				return fmt.Errorf("no StepGate database at %s: run `stepgate serve --dev` first, or pass --database", loc.Path)
			}
			return missing
		}
		return nil
	}
	if cfg.MasterKeyFile == "" && cfg.MasterKey == "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, keys.DevMasterKeyFile)); err != nil {
			return missing
		}
	}
	return nil
}
