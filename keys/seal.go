package keys

import (
	"crypto/rand"
	"errors"
	"fmt"
)

// ErrWrongMasterKey is returned when sealed data cannot be opened: it was
// sealed under another master key, for another purpose, or it was altered.
var ErrWrongMasterKey = errors.New("wrong master key or corrupted data")

// Sealed format: version byte, 12-byte random nonce, AES-256-GCM ciphertext
// and tag. The version byte is authenticated too.
const (
	sealVersion byte = 1
	nonceSize        = 12
	tagSize          = 16
)

// HKDF contexts. The sealing key and Derive's sub-keys never share a
// context, whatever purpose a caller passes.
const (
	sealInfo     = "stepgate/seal/v1"
	derivePrefix = "stepgate/derive/"
)

// Seal encrypts plaintext under the master key. aad names what the blob is
// for and where it belongs ("signing-key:<kid>", "totp:<userID>"); Open must
// be given the same aad, so a sealed blob copied to another row is useless.
func (k *MasterKey) Seal(plaintext, aad []byte) ([]byte, error) {
	if k == nil || k.aead == nil {
		return nil, errors.New("keys: no master key")
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+tagSize)
	out[0] = sealVersion
	nonce := out[1 : 1+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, nonce, plaintext, versionedAAD(sealVersion, aad)), nil
}

// Open decrypts what Seal produced with the same aad. Any failure is
// ErrWrongMasterKey (possibly wrapped with detail).
func (k *MasterKey) Open(sealed, aad []byte) ([]byte, error) {
	if k == nil || k.aead == nil {
		return nil, errors.New("keys: no master key")
	}
	if len(sealed) < 1+nonceSize+tagSize {
		return nil, fmt.Errorf("sealed data too short: %w", ErrWrongMasterKey)
	}
	if sealed[0] != sealVersion {
		return nil, fmt.Errorf("unknown sealed data version %d: %w", sealed[0], ErrWrongMasterKey)
	}
	nonce, ct := sealed[1:1+nonceSize], sealed[1+nonceSize:]
	pt, err := k.aead.Open(nil, nonce, ct, versionedAAD(sealed[0], aad))
	if err != nil {
		return nil, ErrWrongMasterKey
	}
	return pt, nil
}

// Derive returns a 32-byte sub-key for purpose (HKDF-SHA256 of the master
// key), e.g. the HMAC key for backup codes or the OIDC opaque-token key. The
// same master key and purpose always give the same sub-key; different
// purposes give independent keys. purpose must be a fixed, non-empty name.
func (k *MasterKey) Derive(purpose string) []byte {
	if k == nil {
		panic("keys: Derive on a nil MasterKey")
	}
	return k.derive(derivePrefix + purpose)
}

func versionedAAD(version byte, aad []byte) []byte {
	out := make([]byte, 0, 1+len(aad))
	return append(append(out, version), aad...)
}
