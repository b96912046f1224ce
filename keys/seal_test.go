package keys_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stepgate/stepgate/keys"
)

func TestSealOpen(t *testing.T) {
	mk, other := newMasterKey(t), newMasterKey(t)
	secret := []byte("JBSWY3DPEHPK3PXP")
	aad := []byte("totp:user-1")
	sealed, err := mk.Seal(secret, aad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}

	t.Run("sealed data opens with the same master key and purpose", func(t *testing.T) {
		got, err := mk.Open(sealed, aad)
		if err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("Open = %q, %v; want %q", got, err, secret)
		}
	})
	t.Run("empty plaintext round trips", func(t *testing.T) {
		s, err := mk.Seal(nil, aad)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := mk.Open(s, aad); err != nil || len(got) != 0 {
			t.Fatalf("Open = %q, %v", got, err)
		}
	})
	t.Run("sealing twice gives different blobs (random nonce)", func(t *testing.T) {
		again, err := mk.Seal(secret, aad)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(again, sealed) {
			t.Fatal("two seals of the same plaintext are identical")
		}
	})
	t.Run("ciphertext does not contain the plaintext", func(t *testing.T) {
		if bytes.Contains(sealed, secret) {
			t.Fatal("plaintext visible in sealed data")
		}
	})

	for _, tc := range []struct {
		name   string
		key    *keys.MasterKey
		sealed []byte
		aad    []byte
	}{
		{"another master key cannot open it", other, sealed, aad},
		{"a blob moved to another row (other AAD) cannot be opened", mk, sealed, []byte("totp:user-2")},
		{"missing AAD cannot open it", mk, sealed, nil},
		{"a flipped ciphertext bit is detected", mk, flip(len(sealed) - 1), aad},
		{"a flipped nonce bit is detected", mk, flip(1), aad},
		{"an unknown format version is rejected", mk, flip(0), aad},
		{"truncated data is rejected", mk, sealed[:20], aad},
		{"empty data is rejected", mk, nil, aad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.key.Open(tc.sealed, tc.aad)
			if !errors.Is(err, keys.ErrWrongMasterKey) {
				t.Fatalf("Open = %q, %v; want ErrWrongMasterKey", got, err)
			}
		})
	}
}

func TestDerive(t *testing.T) {
	mk, other := newMasterKey(t), newMasterKey(t)
	a := mk.Derive("backup-codes")
	for _, tc := range []struct {
		name string
		got  []byte
		same bool
	}{
		{"same master key and purpose give the same sub-key", mk.Derive("backup-codes"), true},
		{"another purpose gives an independent sub-key", mk.Derive("oidc-crypto-key"), false},
		{"another master key gives an independent sub-key", other.Derive("backup-codes"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.got) != 32 {
				t.Fatalf("sub-key is %d bytes, want 32", len(tc.got))
			}
			if bytes.Equal(tc.got, a) != tc.same {
				t.Fatalf("equal = %v, want %v", !tc.same, tc.same)
			}
		})
	}
}
