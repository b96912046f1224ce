package admin

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
)

// Client is a client application as an administrator sees it: everything
// but its secret, of which only a hash is kept.
type Client struct {
	ID                     string
	Name                   string
	Public                 bool // no secret; PKCE required
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	TokenFormat            string // storage.TokenFormatJWT or storage.TokenFormatOpaque
	// Lifetimes of what is issued to the client; 0 is the server's, and a
	// lifetime longer than the server's is cut to it.
	AccessTokenLifetime  time.Duration
	IDTokenLifetime      time.Duration
	RefreshTokenLifetime time.Duration
	Factors              ClientFactors
	// Console is set on StepGate's own console client, which cannot be
	// deleted.
	Console   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ClientFactors are the second factors a client asks of its logins.
type ClientFactors struct {
	OTP   bool
	Email bool
	// MFAMaxAge is how long a second factor done in the SSO session is
	// reused: 0 asks at every connection, -1 for the whole session.
	MFAMaxAge time.Duration
}

func (s *Service) clientView(c *storage.Client) Client {
	maxAge := c.MFAMaxAge
	if maxAge < 0 {
		maxAge = -1 // the store keeps "the whole session" as -1 ms
	}
	return Client{
		ID: c.ID, Name: c.Name, Public: c.Public,
		RedirectURIs:           slices.Clone(c.RedirectURIs),
		PostLogoutRedirectURIs: slices.Clone(c.PostLogoutRedirectURIs),
		TokenFormat:            c.TokenFormat,
		AccessTokenLifetime:    c.AccessTokenLifetime, IDTokenLifetime: c.IDTokenLifetime,
		RefreshTokenLifetime: c.RefreshTokenLifetime,
		Factors:              ClientFactors{OTP: c.FactorOTP, Email: c.FactorEmail, MFAMaxAge: maxAge},
		Console:              s.isConsole(c.ID),
		CreatedAt:            c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// ClientSecret is a client with the secret just made for it: shown this
// once, as StepGate keeps only its hash.
type ClientSecret struct {
	Client Client
	// Secret is empty for a public client.
	Secret string
}

// CreateClientInput is a new client application.
type CreateClientInput struct {
	Name                   string
	RedirectURIs           []string // at least one
	PostLogoutRedirectURIs []string
	Public                 bool
	TokenFormat            string // jwt (also when empty) or opaque
	// Lifetimes: 0 is the server's.
	AccessTokenLifetime  time.Duration
	IDTokenLifetime      time.Duration
	RefreshTokenLifetime time.Duration
	OTP                  bool
	Email                bool
	// MFAMaxAge: nil reuses a second factor for the whole session.
	MFAMaxAge *time.Duration
}

// CreateClient registers a client application with a new random ID and,
// unless it is public, a new secret, returned once.
func (s *Service) CreateClient(ctx context.Context, actor Actor, in CreateClientInput) (*ClientSecret, error) {
	now := s.now()
	c := &storage.Client{
		Name: strings.TrimSpace(in.Name), Public: in.Public, RedirectURIs: slices.Clone(in.RedirectURIs),
		PostLogoutRedirectURIs: slices.Clone(in.PostLogoutRedirectURIs), TokenFormat: in.TokenFormat,
		AccessTokenLifetime: in.AccessTokenLifetime, IDTokenLifetime: in.IDTokenLifetime,
		RefreshTokenLifetime: in.RefreshTokenLifetime, FactorOTP: in.OTP, FactorEmail: in.Email,
		MFAMaxAge: -1, CreatedAt: now, UpdatedAt: now,
	}
	if c.TokenFormat == "" {
		c.TokenFormat = storage.TokenFormatJWT
	}
	var f fields
	if in.MFAMaxAge != nil {
		c.MFAMaxAge = checkMaxAge(&f, *in.MFAMaxAge)
	}
	if err := checkClient(f, c); err != nil {
		return nil, err
	}
	id, err := s.newID()
	if err != nil {
		return nil, err
	}
	c.ID = id
	var secret string
	if !c.Public {
		if secret, err = s.newSecret(); err != nil {
			return nil, err
		}
		// The hash the token endpoint compares (op.AuthorizeClientIDSecret).
		c.SecretHash = op.HashSecret(secret)
	}
	err = s.tx(ctx, func(tx storage.Store) error {
		if err := tx.CreateClient(ctx, c); err != nil {
			return asFieldErrors(err)
		}
		return s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventClientCreated, ClientID: c.ID,
			Detail: fmt.Sprintf("name=%q public=%t token_format=%s %s", c.Name, c.Public, c.TokenFormat, factorsDetail(c))})
	})
	if err != nil {
		return nil, err
	}
	return &ClientSecret{Client: s.clientView(c), Secret: secret}, nil
}

// ShowClient returns one client.
func (s *Service) ShowClient(ctx context.Context, id string) (*Client, error) {
	c, err := s.Store.GetClient(ctx, id)
	if err != nil {
		return nil, clientErr(err, id)
	}
	v := s.clientView(c)
	return &v, nil
}

// ListClientsInput selects a page of clients.
type ListClientsInput struct {
	Cursor string `json:"cursor,omitempty"` // the NextCursor of the previous page
	Limit  int    `json:"limit,omitempty"`  // 0: storage.DefaultPageSize; at most storage.MaxPageSize
}

// ClientList is one page of clients, oldest first, with their factors.
type ClientList struct {
	Clients    []Client `json:"clients"`
	NextCursor string   `json:"next_cursor,omitempty"` // empty on the last page
}

// ListClients returns one page of clients, oldest first, with their
// factors.
func (s *Service) ListClients(ctx context.Context, in ListClientsInput) (*ClientList, error) {
	var f fields
	pageLimitField(&f, in.Limit)
	if err := f.err(); err != nil {
		return nil, err
	}
	page, err := s.Store.QueryClients(ctx, storage.ClientQuery{Cursor: strings.TrimSpace(in.Cursor), Limit: in.Limit})
	if err != nil {
		return nil, asFieldErrors(err) // a damaged cursor
	}
	out := &ClientList{Clients: make([]Client, len(page.Clients)), NextCursor: page.NextCursor}
	for i := range page.Clients {
		out.Clients[i] = s.clientView(&page.Clients[i])
	}
	return out, nil
}

// ClientUsers says, per client ID, how many distinct users are signed in
// to it now (storage.Clients.CountClientUsers: a live access token or an
// unrotated refresh token); clients nobody is signed in to are absent.
func (s *Service) ClientUsers(ctx context.Context) (map[string]int64, error) {
	return s.Store.CountClientUsers(ctx, s.now())
}

// UpdateClientInput changes a client's settings; nil fields stay as they
// are. Factors change with SetFactors, the secret with RotateSecret.
type UpdateClientInput struct {
	ID                     string
	Name                   *string
	RedirectURIs           *[]string
	PostLogoutRedirectURIs *[]string
	TokenFormat            *string
	AccessTokenLifetime    *time.Duration
	IDTokenLifetime        *time.Duration
	RefreshTokenLifetime   *time.Duration
}

// errUnchanged ends an update that would change nothing: nothing is
// written and nothing audited.
var errUnchanged = errors.New("unchanged")

// UpdateClient applies the changes to the current client, in one
// transaction holding its row, so a concurrent change of other fields (or
// of its factors) is not undone. A change that changes nothing writes no
// row and no audit event.
func (s *Service) UpdateClient(ctx context.Context, actor Actor, in UpdateClientInput) (*Client, error) {
	if s.isConsole(in.ID) {
		return nil, errConsoleClient
	}
	now := s.now()
	var out *storage.Client
	err := s.tx(ctx, func(tx storage.Store) error {
		var changed []string
		set := func(field string, dst *string, v *string) {
			if v != nil && *v != *dst {
				*dst, changed = *v, append(changed, field)
			}
		}
		setList := func(field string, dst *[]string, v *[]string) {
			if v != nil && !slices.Equal(*v, *dst) {
				*dst, changed = slices.Clone(*v), append(changed, field)
			}
		}
		setDur := func(field string, dst *time.Duration, v *time.Duration) {
			if v != nil && *v != *dst {
				*dst, changed = *v, append(changed, field)
			}
		}
		c, err := tx.UpdateClient(ctx, in.ID, func(c *storage.Client) error {
			if in.Name != nil {
				name := strings.TrimSpace(*in.Name)
				set("name", &c.Name, &name)
			}
			setList("redirect_uris", &c.RedirectURIs, in.RedirectURIs)
			setList("post_logout_redirect_uris", &c.PostLogoutRedirectURIs, in.PostLogoutRedirectURIs)
			set("token_format", &c.TokenFormat, in.TokenFormat)
			setDur("access_token_lifetime", &c.AccessTokenLifetime, in.AccessTokenLifetime)
			setDur("id_token_lifetime", &c.IDTokenLifetime, in.IDTokenLifetime)
			setDur("refresh_token_lifetime", &c.RefreshTokenLifetime, in.RefreshTokenLifetime)
			if err := checkClient(nil, c); err != nil {
				return err
			}
			if len(changed) == 0 {
				out = c
				return errUnchanged
			}
			c.UpdatedAt = now
			return nil
		})
		if err != nil {
			return clientErr(err, in.ID)
		}
		out = c
		return s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventClientUpdated, ClientID: c.ID,
			Detail: "changed " + strings.Join(changed, ", ")})
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	v := s.clientView(out)
	return &v, nil
}

// RotateSecret gives a confidential client a new secret, returned once;
// the old one stops working when the transaction commits. A public client
// has no secret: that is a ConflictError.
func (s *Service) RotateSecret(ctx context.Context, actor Actor, id string) (*ClientSecret, error) {
	if s.isConsole(id) {
		return nil, errConsoleClient
	}
	secret, err := s.newSecret()
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *storage.Client
	err = s.tx(ctx, func(tx storage.Store) error {
		c, err := tx.UpdateClient(ctx, id, func(c *storage.Client) error {
			if c.Public {
				return &ConflictError{Reason: fmt.Sprintf("client %q is public: it has no secret to rotate", id)}
			}
			c.SecretHash, c.UpdatedAt = op.HashSecret(secret), now
			return nil
		})
		if err != nil {
			return clientErr(err, id)
		}
		out = c
		return s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventClientSecretRotated, ClientID: c.ID})
	})
	if err != nil {
		return nil, err
	}
	return &ClientSecret{Client: s.clientView(out), Secret: secret}, nil
}

// DeleteClientInput names the client to delete. Confirm is the explicit
// yes the last-OTP-user rule asks for when the client is the last user of
// OTP and bindings exist (see SetFactors).
type DeleteClientInput struct {
	ID      string `json:"client_id"`
	Confirm bool   `json:"confirm_remove_bindings,omitempty"`
}

// DeleteClientResult says what deleting a client that used OTP did to the
// authenticator bindings: kept for Keepers, or Removed.
type DeleteClientResult struct {
	Keepers []OTPKeeper `json:"otp_kept_by,omitempty"`
	Removed int64       `json:"removed_bindings"`
}

// DeleteClient removes a client and everything issued to it (requests,
// codes, tokens). The console's own client is refused with a
// ConflictError. Deleting a client that uses OTP stops one user of OTP, as
// turning its OTP off does, so the last-OTP-user rule applies: while
// another client or the workspace policy uses OTP the bindings are kept;
// else, when bindings exist, the delete needs Confirm (a
// *ConfirmationRequired with the count, nothing deleted) and then removes
// them with every backup code, in the same transaction.
func (s *Service) DeleteClient(ctx context.Context, actor Actor, in DeleteClientInput) (*DeleteClientResult, error) {
	if s.isConsole(in.ID) {
		return nil, &ConflictError{Reason: "the console's own client cannot be deleted"}
	}
	res := &DeleteClientResult{}
	err := s.tx(ctx, func(tx storage.Store) error {
		if err := tx.Serialize(ctx, factorPolicyLock); err != nil {
			return err
		}
		c, err := tx.GetClient(ctx, in.ID)
		if err != nil {
			return clientErr(err, in.ID)
		}
		if err := tx.DeleteClient(ctx, in.ID); err != nil {
			return clientErr(err, in.ID)
		}
		if err := s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventClientDeleted, ClientID: in.ID,
			Detail: fmt.Sprintf("name=%q", c.Name)}); err != nil {
			return err
		}
		if !c.FactorOTP {
			return nil
		}
		res.Keepers, res.Removed, err = s.otpTurnedOff(ctx, tx, actor, in.ID, "client", in.Confirm,
			fmt.Sprintf("the last application using OTP (%q) was deleted", c.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// checkClient returns the field errors already found with every rule the
// client breaks (storage.Client.Problems, and the bounds below), or nil.
// The ID is not the caller's to give, so it is not checked here.
func checkClient(f fields, c *storage.Client) error {
	for _, p := range c.Problems() {
		if p.Field != "id" {
			f = append(f, p)
		}
	}
	switch {
	case !utf8.ValidString(c.Name) || strings.ContainsFunc(c.Name, unicode.IsControl):
		f.add("name", "must be text without control characters")
	case utf8.RuneCountInString(c.Name) > maxClientName:
		f.add("name", fmt.Sprintf("is longer than %d characters", maxClientName))
	}
	if len(c.RedirectURIs) > maxClientURIs {
		f.add("redirect_uris", fmt.Sprintf("at most %d redirect URIs", maxClientURIs))
	}
	if len(c.PostLogoutRedirectURIs) > maxClientURIs {
		f.add("post_logout_redirect_uris", fmt.Sprintf("at most %d post-logout redirect URIs", maxClientURIs))
	}
	return f.err()
}

// Bounds of what a client's name and URI lists may hold, so that a form
// cannot store a page's worth of text (each URI has its own bound,
// storage.ValidateRedirectURI's).
const (
	maxClientName = 200
	maxClientURIs = 50
)

// checkMaxAge returns the re-authentication period to store: negative is
// the whole session (-1); otherwise whole seconds.
func checkMaxAge(f *fields, d time.Duration) time.Duration {
	switch {
	case d < 0:
		return -1
	case d%time.Second != 0:
		f.add("mfa_max_age", "must be 0 (every connection), -1 (the whole session) or whole seconds")
	}
	return d
}

// clientErr names the client a storage ErrNotFound is about; a model
// refusal becomes FieldErrors; anything else is returned as it is.
func clientErr(err error, id string) error {
	if errors.Is(err, storage.ErrNotFound) {
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			return &NotFoundError{What: "client", Ref: id}
		}
	}
	return asFieldErrors(err)
}

func factorsDetail(c *storage.Client) string {
	return fmt.Sprintf("otp=%s email=%s mfa_max_age=%s", onOff(c.FactorOTP), onOff(c.FactorEmail), maxAgeText(c.MFAMaxAge))
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func maxAgeText(d time.Duration) string {
	if d < 0 {
		return "session"
	}
	return d.String()
}

// newID is a random 128-bit client ID in hex, as op.NewID makes them (safe
// in URLs and on a command line), from the service's randomness.
func (s *Service) newID() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.rand(), b); err != nil {
		return "", fmt.Errorf("admin: no randomness for an ID: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// newSecret is 256 random bits, base64url, as op.NewSecret makes them.
func (s *Service) newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand(), b); err != nil {
		return "", fmt.Errorf("admin: no randomness for a secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
