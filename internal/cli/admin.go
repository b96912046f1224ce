package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/server"
	"github.com/stepgate/stepgate/storage"
)

// What every admin command goes through: withAdmin opens the database and
// gives it (adminService) the admin.Service to call and the actor to call
// it as, adminError turns what the service refused into what the command
// line says.

// adminService is the admin.Service an admin command calls, on the opened
// app's store, with the command's clock (env.now in tests, else the system
// clock), the password hasher the login checks with and the master key's
// code key (as the server derives it), and the actor the audit rows name:
// "cli:<os user>" (cliActor), or "cli" when the user is unknown.
//
// ConsoleClientID is the console's client, which the command line refuses
// to delete or reconfigure as every other door does.
func adminService(a *app, e env) (*admin.Service, admin.Actor) {
	now := time.Now
	if e.now != nil {
		now = e.now
	}
	s := &admin.Service{
		Store:   a.store,
		Now:     now,
		Hasher:  newHasher(),
		CodeKey: a.master.Derive(server.CodeKeyPurpose),

		ConsoleClientID: admin.ConsoleClient,
	}
	_, osUser, _ := strings.Cut(cliActor(e), ":")
	return s, admin.CLI(osUser)
}

// withAdmin opens the database and runs op with the admin core and the
// command's actor (adminService); the database closes when op returns.
func withAdmin(ctx context.Context, e env, cfg *Config, log *slog.Logger, op func(s *admin.Service, actor admin.Actor) error) error {
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	svc, actor := adminService(a, e)
	return op(svc, actor)
}

// fieldFlags names the flag that fills an admin input field where it is
// not the field's name with dashes: redirect_uris is given as
// --redirect-uri, once per URI; a client's token lifetimes are --…-ttl,
// as --access-token-lifetime and the others are the server's settings,
// which every command takes. A command whose flag is named otherwise adds
// its field here.
var fieldFlags = map[string]string{
	"redirect_uris":             "--redirect-uri",
	"post_logout_redirect_uris": "--post-logout-redirect-uri",
	"access_token_lifetime":     "--access-token-ttl",
	"id_token_lifetime":         "--id-token-ttl",
	"refresh_token_lifetime":    "--refresh-token-ttl",
	"password":                  "--password-stdin", // read from standard input
	"client_id":                 "--client",
	"types":                     "--type",
	"session_id":                "--session",
}

// flagOf is the flag a field error is about, as the user typed it.
func flagOf(field string) string {
	if f, ok := fieldFlags[field]; ok {
		return f
	}
	return "--" + strings.ReplaceAll(field, "_", "-")
}

// adminError is what a command reports of an error from the admin
// package:
//   - admin.FieldErrors (or one storage.FieldError): the input broke a
//     rule, a usage error (exit 2) with one line per field, "--flag: why";
//   - *admin.ConfirmationRequired: the change would remove every
//     authenticator binding; it says how many users lose theirs and that
//     --confirm-remove-bindings makes it (exit 1);
//   - *admin.NotFoundError and *admin.ConflictError: their sentence, e.g.
//     `no client "x"` (exit 1);
//   - anything else, nil included, as it is.
func adminError(err error) error {
	var fe admin.FieldErrors
	var one *storage.FieldError
	var confirm *admin.ConfirmationRequired
	var nf *admin.NotFoundError
	var conflict *admin.ConflictError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe) || errors.As(err, &one):
		if fe == nil {
			fe = admin.FieldErrors{one}
		}
		lines := make([]string, len(fe))
		for i, f := range fe {
			lines[i] = flagOf(f.Field) + ": " + f.Reason
		}
		// runEnv writes "stepgate: " before the first line; each further
		// line gets it too, so every refusal reads the same.
		return usageError{strings.Join(lines, "\nstepgate: ")}
	case errors.As(err, &confirm):
		what := "no other application and not the workspace policy uses OTP: turning it off"
		switch confirm.Field {
		case "client":
			what = "no other application and not the workspace policy uses OTP: deleting this application"
		case "otp":
		default:
			what = "no application uses OTP: this change of the workspace policy"
		}
		return fmt.Errorf("%s removes the authenticator binding (and backup codes) of %d user(s), irreversibly; "+
			"run again with --confirm-remove-bindings to do so", what, confirm.Bindings)
	case errors.As(err, &nf):
		return nf
	case errors.As(err, &conflict):
		return conflict
	}
	return err
}
