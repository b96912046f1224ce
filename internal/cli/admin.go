package cli

import (
	"errors"
	"strings"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/server"
)

// adminService is the admin core over the command's store, on the
// command's clock (a test's, else the real one), hashing passwords and
// backup codes as the server does.
func adminService(a *app, e env) *admin.Service {
	now := e.now
	if now == nil {
		now = time.Now
	}
	return &admin.Service{Store: a.store, Now: now, Hasher: newHasher(), CodeKey: a.master.Derive(server.CodeKeyPurpose)}
}

// flagOfField names the flag that carries an admin input field, where the
// two differ; any other field is its own name with dashes.
var flagOfField = map[string]string{
	"password":   "password-stdin", // read from standard input
	"client_id":  "client",
	"types":      "type",
	"session_id": "session",
}

// adminError turns an error of the admin core into what the command line
// says: field errors are usage mistakes (exit 2), each "--flag: reason";
// a missing thing or a conflict is a failure (exit 1) in its own words.
func adminError(err error) error {
	var fe admin.FieldErrors
	if !errors.As(err, &fe) {
		return err
	}
	parts := make([]string, len(fe))
	for i, f := range fe {
		flag, ok := flagOfField[f.Field]
		if !ok {
			flag = strings.ReplaceAll(f.Field, "_", "-")
		}
		parts[i] = "--" + flag + ": " + f.Reason
	}
	return usageError{strings.Join(parts, "; ")}
}
