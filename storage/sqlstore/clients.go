package sqlstore

import (
	"context"
	"time"

	"github.com/stepgate/stepgate/storage"
)

const clientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris, token_format,
	factor_otp, factor_email, mfa_max_age_ms, access_token_lifetime_ms, id_token_lifetime_ms,
	refresh_token_lifetime_ms, created_at, updated_at`

const (
	qInsertClient = `INSERT INTO clients (` + clientColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qClientByID   = `SELECT ` + clientColumns + ` FROM clients WHERE id = ?`
	qListClients  = `SELECT ` + clientColumns + ` FROM clients ORDER BY created_at, id`
	qUpdateClient = `UPDATE clients SET name = ?, secret_hash = ?, public = ?, redirect_uris = ?,
		post_logout_redirect_uris = ?, token_format = ?, factor_otp = ?, factor_email = ?, mfa_max_age_ms = ?,
		access_token_lifetime_ms = ?, id_token_lifetime_ms = ?, refresh_token_lifetime_ms = ?, updated_at = ? WHERE id = ?`
	qDeleteClient = `DELETE FROM clients WHERE id = ?`
)

// maxAgeMS stores MFAMaxAge in milliseconds. Every negative duration ("no
// limit within the session") is stored as -1 so that, say, -1ns does not
// truncate to 0 and turn into "ask every time".
func maxAgeMS(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return d.Milliseconds()
}

func scanClient(row scanner) (*storage.Client, error) {
	var c storage.Client
	var maxAge, access, id, refresh int64
	err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, (*jsonList)(&c.RedirectURIs),
		(*jsonList)(&c.PostLogoutRedirectURIs), &c.TokenFormat, &c.FactorOTP, &c.FactorEmail, &maxAge,
		&access, &id, &refresh, (*msTime)(&c.CreatedAt), (*msTime)(&c.UpdatedAt))
	if err != nil {
		return nil, mapErr(err)
	}
	c.MFAMaxAge = time.Duration(maxAge) * time.Millisecond
	c.AccessTokenLifetime = time.Duration(access) * time.Millisecond
	c.IDTokenLifetime = time.Duration(id) * time.Millisecond
	c.RefreshTokenLifetime = time.Duration(refresh) * time.Millisecond
	return &c, nil
}

func (s *Store) CreateClient(ctx context.Context, c *storage.Client) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	_, err := s.exec(ctx, qInsertClient, c.ID, c.Name, c.SecretHash, c.Public, jsonList(c.RedirectURIs),
		jsonList(c.PostLogoutRedirectURIs), c.TokenFormat, c.FactorOTP, c.FactorEmail, maxAgeMS(c.MFAMaxAge),
		c.AccessTokenLifetime.Milliseconds(), c.IDTokenLifetime.Milliseconds(), c.RefreshTokenLifetime.Milliseconds(),
		ms(c.CreatedAt), ms(c.UpdatedAt))
	return err
}

func (s *Store) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	return scanClient(s.queryRow(ctx, qClientByID, id))
}

func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	return collect(ctx, s, scanClient, qListClients)
}

// UpdateClient reads the row (locked, see forUpdate), lets update change
// it, validates it and writes every field except ID and CreatedAt back, in
// one transaction.
func (s *Store) UpdateClient(ctx context.Context, id string, update func(c *storage.Client) error) (*storage.Client, error) {
	var out *storage.Client
	err := s.InTx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		c, err := scanClient(t.queryRow(ctx, qClientByID+t.forUpdate(), id))
		if err != nil {
			return err
		}
		created := c.CreatedAt
		if err := update(c); err != nil {
			return err
		}
		c.ID, c.CreatedAt = id, created
		if err := c.Validate(); err != nil {
			return err
		}
		if err := t.execOne(ctx, qUpdateClient, c.Name, c.SecretHash, c.Public, jsonList(c.RedirectURIs),
			jsonList(c.PostLogoutRedirectURIs), c.TokenFormat, c.FactorOTP, c.FactorEmail, maxAgeMS(c.MFAMaxAge),
			c.AccessTokenLifetime.Milliseconds(), c.IDTokenLifetime.Milliseconds(), c.RefreshTokenLifetime.Milliseconds(),
			ms(c.UpdatedAt), c.ID); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteClient removes the client; its auth requests and tokens go with it
// (ON DELETE CASCADE).
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.execOne(ctx, qDeleteClient, id)
}
