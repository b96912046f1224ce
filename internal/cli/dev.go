package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
)

// Dev accounts created on the first --dev start.
const (
	devOwnerEmail  = "owner@stepgate.localhost"
	devRedirectURI = "http://127.0.0.1:9000/callback"
)

// devBootstrap creates an owner and a demo client on an empty database and
// prints their credentials once; later starts find them and print nothing.
func devBootstrap(ctx context.Context, a *app, e env) error {
	users, err := a.store.ListUsers(ctx)
	if err != nil || len(users) > 0 {
		return err
	}
	password := op.NewSecret()[:20]
	phc, err := newHasher().Hash(ctx, password)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	owner := &storage.User{ID: op.NewID(), Email: devOwnerEmail, Name: "Dev Owner", Role: storage.RoleOwner,
		PasswordHash: phc, CreatedAt: now, UpdatedAt: now}
	if err := a.store.CreateUser(ctx, owner); err != nil {
		return err
	}
	c, secret, err := createClient(ctx, a.store, "Demo app", []string{devRedirectURI}, []string{"http://127.0.0.1:9000/"}, false, storage.TokenFormatJWT)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, `
Development accounts (shown once):
  owner:         %s / %s
  demo client:   client_id=%s client_secret=%s
                 redirect_uri=%s
`, devOwnerEmail, password, c.ID, secret, devRedirectURI)
	return nil
}
