package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// ConsoleClient is the client ID of StepGate's own console: an OIDC client
// of StepGate like any application (code + PKCE, public), which the server
// creates at start and nobody can delete or reconfigure.
const ConsoleClient = "stepgate-console"

// ConsoleMFAMaxAge is how long a second factor done in the SSO session
// counts for a console sign-in. It is also the console's window for
// destructive actions: a console login that asks for a second factor
// (acr_values=2fa) finds one at most this old, or asks for a new one.
const ConsoleMFAMaxAge = 15 * time.Minute

// ActorSystem is StepGate itself (the console client it keeps up to date).
const ActorSystem ActorKind = "system"

// ConsolePaths are where the console receives its login and lands after
// signing out, under the issuer.
const (
	ConsoleCallbackPath  = "/console/callback"
	ConsoleSignedOutPath = "/console/signed-out"
)

// errConsoleClient refuses changes to the console's client through the
// doors meant for applications.
var errConsoleClient = &ConflictError{Reason: "the console's own client is managed by StepGate: " +
	"the workspace policy (targets: console) decides its second factor"}

func (s *Service) isConsole(id string) bool {
	return s.ConsoleClientID != "" && id == s.ConsoleClientID
}

// EnsureConsoleClient creates the console's client for issuer, or brings
// an existing one back to what the console needs (its redirect URIs follow
// the issuer), in one transaction; an up-to-date client is left alone and
// nothing is audited. Replicas starting together may race to create it:
// the loser finds it and checks it like any later start.
func (s *Service) EnsureConsoleClient(ctx context.Context, issuer string) error {
	issuer = strings.TrimSuffix(issuer, "/")
	want := storage.Client{
		ID: ConsoleClient, Name: "StepGate console", Public: true,
		RedirectURIs:           []string{issuer + ConsoleCallbackPath},
		PostLogoutRedirectURIs: []string{issuer + ConsoleSignedOutPath},
		TokenFormat:            storage.TokenFormatJWT, MFAMaxAge: ConsoleMFAMaxAge,
	}
	actor := Actor{Kind: ActorSystem}
	for attempt := 0; ; attempt++ {
		err := s.tx(ctx, func(tx storage.Store) error {
			c, err := tx.GetClient(ctx, ConsoleClient)
			if errors.Is(err, storage.ErrNotFound) {
				now := s.now()
				c := want
				c.CreatedAt, c.UpdatedAt = now, now
				if err := tx.CreateClient(ctx, &c); err != nil {
					return err
				}
				return s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventClientCreated, ClientID: c.ID,
					Detail: fmt.Sprintf("name=%q public=true token_format=jwt (StepGate's console)", c.Name)})
			}
			if err != nil {
				return err
			}
			if consoleClientCurrent(c, &want) {
				return nil
			}
			_, err = tx.UpdateClient(ctx, ConsoleClient, func(c *storage.Client) error {
				c.Name, c.Public, c.SecretHash = want.Name, true, ""
				c.RedirectURIs, c.PostLogoutRedirectURIs = want.RedirectURIs, want.PostLogoutRedirectURIs
				c.TokenFormat, c.MFAMaxAge, c.FactorOTP, c.FactorEmail = want.TokenFormat, want.MFAMaxAge, false, false
				c.AccessTokenLifetime, c.IDTokenLifetime, c.RefreshTokenLifetime = 0, 0, 0
				c.UpdatedAt = s.now()
				return nil
			})
			if err != nil {
				return err
			}
			return s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventClientUpdated, ClientID: ConsoleClient,
				Detail: "StepGate's console client brought up to date for issuer " + issuer})
		})
		if errors.Is(err, storage.ErrConflict) && attempt == 0 {
			continue // another replica created it meanwhile
		}
		return err
	}
}

func consoleClientCurrent(c, want *storage.Client) bool {
	return c.Name == want.Name && c.Public && c.SecretHash == "" &&
		slices.Equal(c.RedirectURIs, want.RedirectURIs) &&
		slices.Equal(c.PostLogoutRedirectURIs, want.PostLogoutRedirectURIs) &&
		c.TokenFormat == want.TokenFormat && c.MFAMaxAge == want.MFAMaxAge && !c.FactorOTP && !c.FactorEmail &&
		c.AccessTokenLifetime == 0 && c.IDTokenLifetime == 0 && c.RefreshTokenLifetime == 0
}
