package server

import (
	"context"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/op"
)

// keySource adapts keys.Manager to what the provider needs.
type keySource struct{ m *keys.Manager }

var _ op.KeySource = keySource{}

func (k keySource) ActiveSigningKey(ctx context.Context) (op.SigningKey, error) {
	sk, err := k.m.Active(ctx)
	if err != nil {
		return op.SigningKey{}, err
	}
	return op.SigningKey{ID: sk.ID, Algorithm: sk.Algorithm, Private: sk.Private}, nil
}

func (k keySource) PublishedKeys(ctx context.Context) ([]jose.JSONWebKey, error) {
	return k.m.Published(ctx)
}
