package login

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters. Memory is in KiB.
type Params struct {
	Memory  uint32
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are OWASP's first argon2id recommendation (19 MiB, two
// passes, one lane) with a 16-byte salt and a 32-byte key.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on parameters, for ours and for those read back from a stored hash:
// a corrupt or hostile row must not make one verification allocate
// gigabytes or run for minutes, nor make argon2 panic.
const (
	maxMemory = 1 << 20 // KiB, 1 GiB
	maxTime   = 32
	minSalt   = 8
	maxSalt   = 64
	minKey    = 16
	maxKey    = 128
)

var (
	// ErrBusy means no hashing slot freed up within the Hasher's Wait. The
	// request should be answered 503 with Retry-After, never treated as a
	// wrong password.
	ErrBusy = errors.New("login: password hashing busy")
	// ErrMalformedHash means a stored string is not an argon2id PHC string
	// this package can verify.
	ErrMalformedHash = errors.New("login: malformed password hash")
)

// Validate reports whether p can be used to hash, within this package's
// limits.
func (p Params) Validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("login: argon2 time %d outside 1..%d", p.Time, maxTime)
	case p.Threads < 1:
		return errors.New("login: argon2 threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("login: argon2 memory %d KiB outside %d..%d", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSalt || p.SaltLen > maxSalt:
		return fmt.Errorf("login: salt length %d outside %d..%d", p.SaltLen, minSalt, maxSalt)
	case p.KeyLen < minKey || p.KeyLen > maxKey:
		return fmt.Errorf("login: key length %d outside %d..%d", p.KeyLen, minKey, maxKey)
	}
	return nil
}

// Hasher hashes and verifies passwords with argon2id. Each computation
// holds Memory KiB, so at most cap(slots) run at once; memory stays bounded
// however many login requests arrive, and a request that cannot start
// within Wait gets ErrBusy instead of queueing without end.
type Hasher struct {
	Params
	// Wait is how long a call waits for a free slot; zero fails at once.
	Wait time.Duration
	// Rand is the source of salts; crypto/rand when nil.
	Rand io.Reader
	// Waited, when set, is told how long each computation waited for its
	// slot, and whether it gave up because none freed up in time (busy).
	// It is measured on the real clock, as Wait is.
	Waited func(wait time.Duration, busy bool)

	slots chan struct{}
	// dummy is a PHC string with the current parameters that no password
	// matches, verified in place of a missing user's hash.
	dummy string
	// key is argon2.IDKey; tests replace it to count computations.
	key func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
}

// NewHasher returns a Hasher running at most maxConcurrent computations at
// once (at least one).
func NewHasher(params Params, maxConcurrent int, wait time.Duration) *Hasher {
	if maxConcurrent < 1 {
		maxConcurrent = 1
	}
	// Random bytes of the right lengths are as costly to verify against as
	// a real hash, and nothing can match them.
	salt := make([]byte, params.SaltLen)
	sum := make([]byte, params.KeyLen)
	rand.Read(salt)
	rand.Read(sum)
	return &Hasher{
		Params: params,
		Wait:   wait,
		slots:  make(chan struct{}, maxConcurrent),
		dummy:  encodePHC(params, salt, sum),
		key:    argon2.IDKey,
	}
}

// Slots is how many computations may run at once.
func (h *Hasher) Slots() int { return cap(h.slots) }

// InUse is how many computations are running now.
func (h *Hasher) InUse() int { return len(h.slots) }

// Hash returns the PHC string of password under the current parameters.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.Params.Validate(); err != nil {
		return "", err
	}
	r := h.Rand
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, h.SaltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("login: reading salt: %w", err)
	}
	sum, err := h.compute(ctx, password, salt, h.Params)
	if err != nil {
		return "", err
	}
	return encodePHC(h.Params, salt, sum), nil
}

// Verify reports whether password matches the PHC string phc, and, when it
// does, whether phc was made with other parameters than the current ones
// and should be replaced by a fresh Hash.
func (h *Hasher) Verify(ctx context.Context, phc, password string) (ok, needsRehash bool, err error) {
	p, salt, want, err := decodePHC(phc)
	if err != nil {
		return false, false, err
	}
	got, err := h.compute(ctx, password, salt, p)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != h.Params, nil
}

// VerifyDummy does the work of a failed Verify under the current
// parameters, for a login whose user does not exist: the answer then takes
// as long, and is as likely to be ErrBusy, as for a real user.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, h.dummy, password)
	return err
}

// compute runs one argon2id computation in a slot.
func (h *Hasher) compute(ctx context.Context, password string, salt []byte, p Params) ([]byte, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return h.key([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// acquire takes a slot, waiting at most h.Wait, and reports the wait.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	start := time.Now()
	release, err = h.take(ctx)
	// A request that went away while waiting says nothing about the slots.
	if h.Waited != nil && (err == nil || errors.Is(err, ErrBusy)) {
		h.Waited(time.Since(start), errors.Is(err, ErrBusy))
	}
	return release, err
}

func (h *Hasher) take(ctx context.Context) (release func(), err error) {
	release = func() { <-h.slots }
	select {
	case h.slots <- struct{}{}:
		return release, nil
	default:
	}
	if h.Wait <= 0 {
		return nil, ErrBusy
	}
	t := time.NewTimer(h.Wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// b64 is the PHC encoding of salt and hash, as in the reference
// implementation: standard alphabet, no padding. Strict decoding refuses
// trailing bits, so each hash has one spelling.
var b64 = base64.RawStdEncoding.Strict()

func encodePHC(p Params, salt, sum []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(sum))
}

// decodePHC parses `$argon2id$v=19$m=M,t=T,p=P$salt$hash`, the only form
// encodePHC writes, and checks the parameters against this package's
// limits.
func decodePHC(s string) (p Params, salt, sum []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version %q", ErrMalformedHash, parts[2])
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, ErrMalformedHash
	}
	m, err1 := param(kv[0], "m", 32)
	t, err2 := param(kv[1], "t", 32)
	th, err3 := param(kv[2], "p", 8)
	if err := errors.Join(err1, err2, err3); err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	if sum, err = b64.DecodeString(parts[5]); err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	p = Params{
		Memory:  uint32(m),
		Time:    uint32(t),
		Threads: uint8(th),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(sum)),
	}
	if err := p.Validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	return p, salt, sum, nil
}

// param parses "name=decimal".
func param(s, name string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
		return 0, ErrMalformedHash
	}
	return strconv.ParseUint(v, 10, bits)
}
