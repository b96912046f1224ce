package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
)

type clientJSON struct {
	ClientID               string    `json:"client_id"`
	ClientSecret           string    `json:"client_secret,omitempty"`
	Name                   string    `json:"name"`
	Public                 bool      `json:"public"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	TokenFormat            string    `json:"token_format"`
	FactorOTP              bool      `json:"factor_otp"`
	FactorEmail            bool      `json:"factor_email"`
	MFAMaxAge              string    `json:"mfa_max_age"`
	CreatedAt              time.Time `json:"created_at"`
}

func toClientJSON(c *storage.Client, secret string) clientJSON {
	return clientJSON{ClientID: c.ID, ClientSecret: secret, Name: c.Name, Public: c.Public, RedirectURIs: c.RedirectURIs,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, TokenFormat: c.TokenFormat, FactorOTP: c.FactorOTP,
		FactorEmail: c.FactorEmail, MFAMaxAge: maxAgeString(c.MFAMaxAge), CreatedAt: c.CreatedAt}
}

func cmdClient(ctx context.Context, e env, args []string) error {
	action, pos, args := splitAction(args)
	var name, format string
	var redirects, postLogout []string
	var public, asJSON bool
	var otpFlag, emailFlag onOff
	var maxAge optDuration
	var confirmRemove bool
	cfg, rest, log, err := load(e, "client "+action, args, func(fs *flag.FlagSet) {
		if action == "set-factors" {
			fs.Var(&otpFlag, "otp", "authenticator app codes: on or off")
			fs.Var(&emailFlag, "email", "email codes: on or off")
			fs.Var(&maxAge, "mfa-max-age", "reuse a second factor from the SSO session for this long (0: ask at every connection; -1: for the whole session)")
			fs.BoolVar(&confirmRemove, "confirm-remove-bindings", false, "allow --otp=off to delete every authenticator binding when nothing else uses OTP")
		}
		if action == "create" {
			fs.StringVar(&name, "name", "", "application name shown on the login page")
			fs.Var(listFlag{&redirects}, "redirect-uri", "allowed redirect URI (repeatable)")
			fs.Var(listFlag{&postLogout}, "post-logout-redirect-uri", "allowed post-logout redirect URI (repeatable)")
			fs.BoolVar(&public, "public", false, "public client (no secret; PKCE required)")
			fs.StringVar(&format, "token-format", storage.TokenFormatJWT, "access token format: jwt or opaque")
		}
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	pos = append(pos, rest...)
	if !hasAction("client", action) {
		return usagef("usage: stepgate client create|list|set-factors|delete")
	}
	switch action {
	case "create":
		if strings.TrimSpace(name) == "" {
			return usagef("--name is required")
		}
		if len(redirects) == 0 {
			return usagef("at least one --redirect-uri is required")
		}
		// The model's rule (storage.ValidateRedirectURI), checked before the
		// database is opened; the store checks it again on every write.
		for _, u := range append(append([]string{}, redirects...), postLogout...) {
			if err := storage.ValidateRedirectURI(u); err != nil {
				return usagef("redirect URI %v", err)
			}
		}
		if format != storage.TokenFormatJWT && format != storage.TokenFormatOpaque {
			return usagef("--token-format must be jwt or opaque")
		}
	case "list":
	case "set-factors":
		if len(pos) != 1 {
			return usagef("usage: stepgate client set-factors CLIENT_ID [--otp=on|off] [--email=on|off] [--mfa-max-age=DURATION]")
		}
		if otpFlag.v == nil && emailFlag.v == nil && maxAge.v == nil {
			return usagef("give --otp=on|off, --email=on|off and/or --mfa-max-age=DURATION")
		}
	case "delete":
		if len(pos) != 1 {
			return usagef("usage: stepgate client delete CLIENT_ID")
		}
	default:
		return usagef("usage: stepgate client create|list|set-factors|delete")
	}
	a, err := open(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer a.close()

	switch action {
	case "create":
		c, secret, err := createClient(ctx, a.store, name, redirects, postLogout, public, format)
		if errors.Is(err, storage.ErrInvalid) {
			return usagef("%v", err)
		} else if err != nil {
			return err
		}
		if asJSON {
			return printJSON(e.stdout, toClientJSON(c, secret))
		}
		fmt.Fprintf(e.stdout, "client_id:     %s\n", c.ID)
		if secret != "" {
			fmt.Fprintf(e.stdout, "client_secret: %s\n(the secret is shown only now; StepGate keeps only its hash)\n", secret)
		}
		return nil
	case "list":
		list, err := a.store.ListClients(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]clientJSON, 0, len(list))
			for i := range list {
				out = append(out, toClientJSON(&list[i], ""))
			}
			return printJSON(e.stdout, out)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT_ID\tNAME\tTYPE\tTOKENS\tREDIRECT URIS")
		for _, c := range list {
			kind := "confidential"
			if c.Public {
				kind = "public"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, kind, c.TokenFormat, strings.Join(c.RedirectURIs, " "))
		}
		return tw.Flush()
	case "set-factors":
		return setFactors(ctx, a, e, pos[0], factorChange{otp: otpFlag.v, email: emailFlag.v, maxAge: maxAge.v,
			confirm: confirmRemove, asJSON: asJSON})
	default: // delete
		if err := a.store.DeleteClient(ctx, pos[0]); errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no client %q", pos[0])
		} else if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted client %s and everything issued to it\n", pos[0])
		return nil
	}
}

// createClient registers a client; for a confidential one it returns the
// secret, which is stored only as a hash.
func createClient(ctx context.Context, st storage.Store, name string, redirects, postLogout []string, public bool, format string) (*storage.Client, string, error) {
	now := time.Now().UTC()
	c := &storage.Client{
		ID: op.NewID(), Name: strings.TrimSpace(name), Public: public, RedirectURIs: redirects,
		PostLogoutRedirectURIs: postLogout, TokenFormat: format, MFAMaxAge: -1, CreatedAt: now, UpdatedAt: now,
	}
	var secret string
	if !public {
		secret = op.NewSecret()
		c.SecretHash = op.HashSecret(secret)
	}
	if err := st.CreateClient(ctx, c); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// onOff is an on|off flag that remembers whether it was given.
type onOff struct{ v *bool }

func (o *onOff) String() string {
	if o == nil || o.v == nil {
		return ""
	}
	return onOffString(*o.v)
}

func (o *onOff) Set(s string) error {
	switch s {
	case "on", "true":
		v := true
		o.v = &v
	case "off", "false":
		v := false
		o.v = &v
	default:
		return fmt.Errorf("must be on or off")
	}
	return nil
}

func onOffString(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
