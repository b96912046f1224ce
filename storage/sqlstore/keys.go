package sqlstore

import (
	"context"
	"time"

	"github.com/stepgate/stepgate/storage"
)

const signingKeyColumns = `id, algorithm, sealed_private, public_jwk, created_at, active_at, retired_at`

const (
	qInsertSigningKey = `INSERT INTO signing_keys (` + signingKeyColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qListSigningKeys  = `SELECT ` + signingKeyColumns + ` FROM signing_keys ORDER BY created_at, id`
	qRetireSigningKey = `UPDATE signing_keys SET retired_at = ? WHERE id = ?`
	qDeleteSigningKey = `DELETE FROM signing_keys WHERE id = ?`
)

func scanSigningKey(row scanner) (*storage.SigningKey, error) {
	var k storage.SigningKey
	var jwk string
	err := row.Scan(&k.ID, &k.Algorithm, &k.SealedPrivate, &jwk, (*msTime)(&k.CreatedAt), (*msTime)(&k.ActiveAt),
		(*msTime)(&k.RetiredAt))
	if err != nil {
		return nil, mapErr(err)
	}
	k.PublicJWK = []byte(jwk)
	return &k, nil
}

func (s *Store) CreateSigningKey(ctx context.Context, k *storage.SigningKey) error {
	_, err := s.exec(ctx, qInsertSigningKey, k.ID, k.Algorithm, blob(k.SealedPrivate), string(k.PublicJWK),
		ms(k.CreatedAt), ms(k.ActiveAt), ms(k.RetiredAt))
	return err
}

func (s *Store) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	return collect(ctx, s, scanSigningKey, qListSigningKeys)
}

func (s *Store) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, qRetireSigningKey, ms(at), id)
}

func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	return s.execOne(ctx, qDeleteSigningKey, id)
}
