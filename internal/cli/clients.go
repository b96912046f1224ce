package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// clientJSON is a client as --json prints it. Durations are Go's ("1h0m0s");
// a lifetime of "0s" is the server's, an mfa_max_age of "session" reuses a
// second factor for the whole SSO session.
type clientJSON struct {
	ClientID               string    `json:"client_id"`
	ClientSecret           string    `json:"client_secret,omitempty"`
	Name                   string    `json:"name"`
	Public                 bool      `json:"public"`
	Console                bool      `json:"console,omitempty"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	TokenFormat            string    `json:"token_format"`
	AccessTokenLifetime    string    `json:"access_token_lifetime"`
	IDTokenLifetime        string    `json:"id_token_lifetime"`
	RefreshTokenLifetime   string    `json:"refresh_token_lifetime"`
	FactorOTP              bool      `json:"factor_otp"`
	FactorEmail            bool      `json:"factor_email"`
	MFAMaxAge              string    `json:"mfa_max_age"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
}

func toClientJSON(c *admin.Client, secret string) clientJSON {
	return clientJSON{ClientID: c.ID, ClientSecret: secret, Name: c.Name, Public: c.Public, Console: c.Console,
		RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		TokenFormat: c.TokenFormat, AccessTokenLifetime: c.AccessTokenLifetime.String(),
		IDTokenLifetime: c.IDTokenLifetime.String(), RefreshTokenLifetime: c.RefreshTokenLifetime.String(),
		FactorOTP: c.Factors.OTP, FactorEmail: c.Factors.Email, MFAMaxAge: maxAgeString(c.Factors.MFAMaxAge),
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// nonNil makes an empty list print as [] rather than null.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// clientKind is "public" or "confidential".
func clientKind(c *admin.Client) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

// listString is a list of URIs as the text output shows it.
func listString(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, " ")
}

// lifetimeString is a client's token lifetime as the text output shows it.
func lifetimeString(d time.Duration) string {
	if d == 0 {
		return "server's"
	}
	return d.String()
}

// printSecret prints a client's ID and the secret just made for it, the
// one time it is shown.
func printSecret(w io.Writer, cs *admin.ClientSecret) {
	fmt.Fprintf(w, "client_id:     %s\n", cs.Client.ID)
	if cs.Secret != "" {
		fmt.Fprintf(w, "client_secret: %s\n(the secret is shown only now; StepGate keeps only its hash)\n", cs.Secret)
	}
}

type clientCreateCmd struct {
	Name                  string        `placeholder:"NAME" help:"application name shown on the login page (required)"`
	RedirectURI           uriValue      `name:"redirect-uri" placeholder:"URI" help:"allowed redirect URI (repeatable; at least one)"`
	PostLogoutRedirectURI uriValue      `name:"post-logout-redirect-uri" placeholder:"URI" help:"allowed post-logout redirect URI (repeatable)"`
	Public                bool          `help:"public client (no secret; PKCE required)"`
	TokenFormat           string        `name:"token-format" default:"jwt" placeholder:"jwt|opaque" help:"access token format: jwt or opaque"`
	AccessTokenLifetime   time.Duration `name:"access-token-ttl" placeholder:"DURATION" help:"access tokens of this application live this long (default 0: the server's --access-token-lifetime, which also caps it; at most 24h)"`
	IDTokenLifetime       time.Duration `name:"id-token-ttl" placeholder:"DURATION" help:"ID tokens of this application live this long (default 0: the server's --id-token-lifetime, which also caps it; at most 24h)"`
	RefreshTokenLifetime  time.Duration `name:"refresh-token-ttl" placeholder:"DURATION" help:"refresh tokens of this application live this long (default 0: the server's --refresh-token-lifetime, which also caps it; at most 365 days, 8760h)"`
	JSON                  bool          `name:"json" help:"print JSON"`
}

func (c *clientCreateCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withAdmin(ctx, e, cfg, log, func(svc *admin.Service, actor admin.Actor) error {
		cs, err := svc.CreateClient(ctx, actor, admin.CreateClientInput{
			Name: c.Name, RedirectURIs: c.RedirectURI, PostLogoutRedirectURIs: c.PostLogoutRedirectURI,
			Public: c.Public, TokenFormat: c.TokenFormat, AccessTokenLifetime: c.AccessTokenLifetime,
			IDTokenLifetime: c.IDTokenLifetime, RefreshTokenLifetime: c.RefreshTokenLifetime,
		})
		if err != nil {
			return adminError(err)
		}
		if c.JSON {
			return printJSON(e.stdout, toClientJSON(&cs.Client, cs.Secret))
		}
		printSecret(e.stdout, cs)
		return nil
	})
}

type clientListCmd struct {
	JSON bool `name:"json" help:"print JSON"`
}

func (c *clientListCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withAdmin(ctx, e, cfg, log, func(svc *admin.Service, _ admin.Actor) error {
		// Every client, page by page: a workspace has few.
		var list []admin.Client
		for in := (admin.ListClientsInput{Limit: storage.MaxPageSize}); ; {
			page, err := svc.ListClients(ctx, in)
			if err != nil {
				return adminError(err)
			}
			if list = append(list, page.Clients...); page.NextCursor == "" {
				break
			}
			in.Cursor = page.NextCursor
		}
		if c.JSON {
			out := make([]clientJSON, 0, len(list))
			for i := range list {
				out = append(out, toClientJSON(&list[i], ""))
			}
			return printJSON(e.stdout, out)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT_ID\tNAME\tTYPE\tTOKENS\tOTP\tEMAIL\tRE-AUTH\tREDIRECT URIS")
		for i := range list {
			c := &list[i]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, clientKind(c), c.TokenFormat,
				onOffString(c.Factors.OTP), onOffString(c.Factors.Email), maxAgeString(c.Factors.MFAMaxAge),
				strings.Join(c.RedirectURIs, " "))
		}
		return tw.Flush()
	})
}

// clientRef is the argument of the commands that act on one client.
type clientRef struct {
	ClientID string `arg:"" name:"client-id" help:"the client_id (client list shows them)"`
}

type clientShowCmd struct {
	clientRef
	JSON bool `name:"json" help:"print JSON"`
}

func (c *clientShowCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withAdmin(ctx, e, cfg, log, func(svc *admin.Service, _ admin.Actor) error {
		cl, err := svc.ShowClient(ctx, c.ClientID)
		if err != nil {
			return adminError(err)
		}
		if c.JSON {
			return printJSON(e.stdout, toClientJSON(cl, ""))
		}
		return printClient(e.stdout, cl)
	})
}

// printClient writes one client as "field: value" lines.
func printClient(w io.Writer, c *admin.Client) error {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	kind := clientKind(c)
	if c.Console {
		kind += " (StepGate's console)"
	}
	for _, l := range [][2]string{
		{"client_id", c.ID},
		{"name", c.Name},
		{"type", kind},
		{"redirect_uris", listString(c.RedirectURIs)},
		{"post_logout_redirect_uris", listString(c.PostLogoutRedirectURIs)},
		{"token_format", c.TokenFormat},
		{"access_token_lifetime", lifetimeString(c.AccessTokenLifetime)},
		{"id_token_lifetime", lifetimeString(c.IDTokenLifetime)},
		{"refresh_token_lifetime", lifetimeString(c.RefreshTokenLifetime)},
		{"otp", onOffString(c.Factors.OTP)},
		{"email", onOffString(c.Factors.Email)},
		{"mfa_max_age", maxAgeString(c.Factors.MFAMaxAge)},
		{"created_at", c.CreatedAt.Format(time.RFC3339)},
		{"updated_at", c.UpdatedAt.Format(time.RFC3339)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", l[0], l[1])
	}
	return tw.Flush()
}

// clientUpdateCmd changes only the settings whose flags are given; the
// pointers and lists are nil for the others.
type clientUpdateCmd struct {
	clientRef
	Name                  *string        `placeholder:"NAME" help:"application name shown on the login page"`
	RedirectURI           uriValue       `name:"redirect-uri" placeholder:"URI" help:"allowed redirect URI (repeatable; replaces the list)"`
	PostLogoutRedirectURI uriValue       `name:"post-logout-redirect-uri" placeholder:"URI" help:"allowed post-logout redirect URI (repeatable; replaces the list; \"\" empties it)"`
	TokenFormat           *string        `name:"token-format" placeholder:"jwt|opaque" help:"access token format: jwt or opaque"`
	AccessTokenLifetime   *time.Duration `name:"access-token-ttl" placeholder:"DURATION" help:"access tokens of this application live this long (0: the server's --access-token-lifetime, which also caps it; at most 24h)"`
	IDTokenLifetime       *time.Duration `name:"id-token-ttl" placeholder:"DURATION" help:"ID tokens of this application live this long (0: the server's --id-token-lifetime, which also caps it; at most 24h)"`
	RefreshTokenLifetime  *time.Duration `name:"refresh-token-ttl" placeholder:"DURATION" help:"refresh tokens of this application live this long (0: the server's --refresh-token-lifetime, which also caps it; at most 365 days, 8760h)"`
	JSON                  bool           `name:"json" help:"print JSON"`
}

func (c *clientUpdateCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	in := admin.UpdateClientInput{ID: c.ClientID, Name: c.Name, TokenFormat: c.TokenFormat,
		AccessTokenLifetime: c.AccessTokenLifetime, IDTokenLifetime: c.IDTokenLifetime,
		RefreshTokenLifetime: c.RefreshTokenLifetime}
	if c.RedirectURI != nil {
		l := []string(c.RedirectURI)
		in.RedirectURIs = &l
	}
	if c.PostLogoutRedirectURI != nil {
		l := []string(c.PostLogoutRedirectURI)
		in.PostLogoutRedirectURIs = &l
	}
	if in.Name == nil && in.RedirectURIs == nil && in.PostLogoutRedirectURIs == nil && in.TokenFormat == nil &&
		in.AccessTokenLifetime == nil && in.IDTokenLifetime == nil && in.RefreshTokenLifetime == nil {
		return usagef("give what to change: --name, --redirect-uri, --post-logout-redirect-uri, --token-format " +
			"or a token lifetime (--access-token-ttl, --id-token-ttl, --refresh-token-ttl)\n" +
			"(see 'stepgate client update --help')")
	}
	return withAdmin(ctx, e, cfg, log, func(svc *admin.Service, actor admin.Actor) error {
		cl, err := svc.UpdateClient(ctx, actor, in)
		if err != nil {
			return adminError(err)
		}
		if c.JSON {
			return printJSON(e.stdout, toClientJSON(cl, ""))
		}
		return printClient(e.stdout, cl)
	})
}

type clientRotateSecretCmd struct {
	clientRef
	JSON bool `name:"json" help:"print JSON"`
}

func (c *clientRotateSecretCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withAdmin(ctx, e, cfg, log, func(svc *admin.Service, actor admin.Actor) error {
		cs, err := svc.RotateSecret(ctx, actor, c.ClientID)
		if err != nil {
			return adminError(err)
		}
		if c.JSON {
			return printJSON(e.stdout, toClientJSON(&cs.Client, cs.Secret))
		}
		printSecret(e.stdout, cs)
		fmt.Fprintln(e.stdout, "the previous secret no longer works")
		return nil
	})
}

type clientDeleteCmd struct {
	clientRef
	Confirm bool `name:"confirm-remove-bindings" help:"when this is the last application using OTP, also remove every authenticator binding and backup code"`
}

func (c *clientDeleteCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withAdmin(ctx, e, cfg, log, func(svc *admin.Service, actor admin.Actor) error {
		res, err := svc.DeleteClient(ctx, actor, admin.DeleteClientInput{ID: c.ClientID, Confirm: c.Confirm})
		if err != nil {
			return adminError(err)
		}
		fmt.Fprintf(e.stdout, "deleted client %s and everything issued to it\n", c.ClientID)
		printOTPOutcome(e.stdout, res.Keepers, res.Removed)
		return nil
	})
}
