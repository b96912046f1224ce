package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

type clientCreateCmd struct {
	Name                  string    `placeholder:"NAME" help:"application name shown on the login page (required)"`
	RedirectURI           listValue `name:"redirect-uri" placeholder:"URI" help:"allowed redirect URI (repeatable; at least one)"`
	PostLogoutRedirectURI listValue `name:"post-logout-redirect-uri" placeholder:"URI" help:"allowed post-logout redirect URI (repeatable)"`
	Public                bool      `help:"public client (no secret; PKCE required)"`
	TokenFormat           string    `name:"token-format" default:"jwt" placeholder:"jwt|opaque" help:"access token format: jwt or opaque"`
	JSON                  bool      `name:"json" help:"print JSON"`
}

func (c *clientCreateCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	if strings.TrimSpace(c.Name) == "" {
		return usagef("--name is required")
	}
	if len(c.RedirectURI) == 0 {
		return usagef("at least one --redirect-uri is required")
	}
	// The model's rule (storage.ValidateRedirectURI), checked before the
	// database is opened; the store checks it again on every write.
	for _, u := range append(append([]string{}, c.RedirectURI...), c.PostLogoutRedirectURI...) {
		if err := storage.ValidateRedirectURI(u); err != nil {
			return usagef("redirect URI %v", err)
		}
	}
	if c.TokenFormat != storage.TokenFormatJWT && c.TokenFormat != storage.TokenFormatOpaque {
		return usagef("--token-format must be jwt or opaque")
	}
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	cl, secret, err := createClient(ctx, a.store, c.Name, c.RedirectURI, c.PostLogoutRedirectURI, c.Public, c.TokenFormat)
	if errors.Is(err, storage.ErrInvalid) {
		return usagef("%v", err)
	} else if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, toClientJSON(cl, secret))
	}
	fmt.Fprintf(e.stdout, "client_id:     %s\n", cl.ID)
	if secret != "" {
		fmt.Fprintf(e.stdout, "client_secret: %s\n(the secret is shown only now; StepGate keeps only its hash)\n", secret)
	}
	return nil
}

type clientListCmd struct {
	JSON bool `name:"json" help:"print JSON"`
}

func (c *clientListCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	list, err := a.store.ListClients(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
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
}

// clientRef is the argument of the commands that act on one client.
type clientRef struct {
	ClientID string `arg:"" name:"client-id" help:"the client_id (client list shows them)"`
}

type clientDeleteCmd struct {
	clientRef
}

func (c *clientDeleteCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.store.DeleteClient(ctx, c.ClientID); errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no client %q", c.ClientID)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deleted client %s and everything issued to it\n", c.ClientID)
	return nil
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
