package login

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// cheap keeps tests fast; one test uses DefaultParams.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 2, 0)
	phc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected PHC prefix: %s", phc)
	}
	ok, rehash, err := h.Verify(ctx, phc, "correct horse battery staple")
	if err != nil || !ok || rehash {
		t.Fatalf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, rehash, err = h.Verify(ctx, phc, "correct horse battery stapler")
	if err != nil || ok || rehash {
		t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
}

func TestHashIsSaltedFromInjectedRand(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 1, 0)
	salt := bytes.Repeat([]byte{7}, 16)
	h.Rand = bytes.NewReader(salt)
	phc, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	// The same string the reference implementation writes: raw standard
	// base64, parameters in m,t,p order.
	sum := argon2.IDKey([]byte("pw"), salt, 1, 64, 1, 32)
	want := fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
	if phc != want {
		t.Fatalf("Hash = %s\nwant   %s", phc, want)
	}

	// Two hashes of one password differ by their salt.
	h.Rand = nil
	a, _ := h.Hash(ctx, "pw")
	b, _ := h.Hash(ctx, "pw")
	if a == b {
		t.Fatal("two hashes of the same password are equal")
	}

	h.Rand = bytes.NewReader(nil)
	if _, err := h.Hash(ctx, "pw"); err == nil {
		t.Fatal("Hash with an exhausted Rand succeeded")
	}
}

func TestDefaultParamsRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(DefaultParams, 1, 0)
	phc, err := h.Hash(ctx, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected PHC prefix: %s", phc)
	}
	parts := strings.Split(phc, "$")
	if len(parts[4]) != 22 || len(parts[5]) != 43 { // 16 and 32 bytes, unpadded
		t.Fatalf("salt/hash lengths %d/%d, want 22/43", len(parts[4]), len(parts[5]))
	}
	if ok, rehash, err := h.Verify(ctx, phc, "s3cret"); err != nil || !ok || rehash {
		t.Fatalf("Verify = %v, %v, %v", ok, rehash, err)
	}
}

func TestMalformedHashIsAnErrorNotAPanic(t *testing.T) {
	h := NewHasher(cheap, 1, 0)
	good, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	p := strings.Split(good, "$")
	salt, sum := p[4], p[5]
	cases := map[string]string{
		"empty":                 "",
		"plain text":            "pw",
		"bcrypt":                "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":               "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + sum,
		"argon2d":               "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + sum,
		"old version":           "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + sum,
		"missing version":       "$argon2id$m=64,t=1,p=1$" + salt + "$" + sum,
		"too few parts":         "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"too many parts":        good + "$x",
		"no leading dollar":     strings.TrimPrefix(good, "$"),
		"params out of order":   "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + sum,
		"missing param":         "$argon2id$v=19$m=64,t=1$" + salt + "$" + sum,
		"extra param":           "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + sum,
		"non-numeric param":     "$argon2id$v=19$m=abc,t=1,p=1$" + salt + "$" + sum,
		"negative param":        "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + sum,
		"signed param":          "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + sum,
		"leading zero":          "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + sum,
		"empty param":           "$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + sum,
		"zero time (panics)":    "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + sum,
		"zero threads (panics)": "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + sum,
		"threads overflow":      "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + sum,
		"memory overflow":       "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + sum,
		"memory too large":      "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + sum,
		"time too large":        "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + sum,
		"memory below 8p":       "$argon2id$v=19$m=8,t=1,p=4$" + salt + "$" + sum,
		"padded salt":           "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + sum,
		"url base64":            "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.NewReplacer("+", "-", "/", "_").Replace(sum) + "-_",
		"bad base64 salt":       "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + sum,
		"empty salt":            "$argon2id$v=19$m=64,t=1,p=1$$" + sum,
		"short salt":            "$argon2id$v=19$m=64,t=1,p=1$YWJj$" + sum,
		"empty hash":            "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"short hash":            "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$YWJjZGVmZ2g",
		"non-canonical base64":  "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + sum[:len(sum)-1] + "B",
	}
	for name, phc := range cases {
		t.Run(name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), phc, "pw")
			if !errors.Is(err, ErrMalformedHash) || ok || rehash {
				t.Fatalf("Verify(%q) = %v, %v, %v; want ErrMalformedHash", phc, ok, rehash, err)
			}
		})
	}
}

func TestNeedsRehashWhenParamsDiffer(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(cheap, 1, 0)
	phc, err := old.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(*Params){
		"memory":  func(p *Params) { p.Memory = 128 },
		"time":    func(p *Params) { p.Time = 2 },
		"threads": func(p *Params) { p.Threads = 2 },
		"salt":    func(p *Params) { p.SaltLen = 32 },
		"key":     func(p *Params) { p.KeyLen = 64 },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			p := cheap
			change(&p)
			h := NewHasher(p, 1, 0)
			ok, rehash, err := h.Verify(ctx, phc, "pw")
			if err != nil || !ok || !rehash {
				t.Fatalf("Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
			}
			// A wrong password never asks for a rehash.
			if ok, rehash, _ := h.Verify(ctx, phc, "nope"); ok || rehash {
				t.Fatalf("Verify(wrong) = %v, %v", ok, rehash)
			}
		})
	}
}

func TestHashRefusesInvalidParams(t *testing.T) {
	for name, p := range map[string]Params{
		"zero":       {},
		"no threads": {Memory: 64, Time: 1, SaltLen: 16, KeyLen: 32},
		"no time":    {Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32},
		"short salt": {Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		"short key":  {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
		"huge mem":   {Memory: 1 << 30, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	} {
		t.Run(name, func(t *testing.T) {
			h := NewHasher(p, 1, 0)
			if _, err := h.Hash(context.Background(), "pw"); err == nil {
				t.Fatal("Hash succeeded with invalid params")
			}
			if err := h.VerifyDummy(context.Background(), "pw"); err == nil {
				t.Fatal("VerifyDummy succeeded with invalid params")
			}
		})
	}
}

func TestBusyWhenAllSlotsAreTaken(t *testing.T) {
	ctx := context.Background()
	for _, wait := range []time.Duration{0, time.Millisecond} {
		t.Run(fmt.Sprint("wait ", wait), func(t *testing.T) {
			h := NewHasher(cheap, 1, wait)
			phc, err := h.Hash(ctx, "pw")
			if err != nil {
				t.Fatal(err)
			}
			release, err := h.acquire(ctx) // the one slot, held by "another request"
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.Hash(ctx, "pw"); !errors.Is(err, ErrBusy) {
				t.Errorf("Hash = %v, want ErrBusy", err)
			}
			if _, _, err := h.Verify(ctx, phc, "pw"); !errors.Is(err, ErrBusy) {
				t.Errorf("Verify = %v, want ErrBusy", err)
			}
			release()
			if ok, _, err := h.Verify(ctx, phc, "pw"); err != nil || !ok {
				t.Errorf("Verify after release = %v, %v", ok, err)
			}
		})
	}
}

func TestWaiterGetsTheReleasedSlot(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 1, time.Minute)
	release, err := h.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := h.Hash(ctx, "pw")
		done <- err
	}()
	release()
	if err := <-done; err != nil {
		t.Fatalf("waiting Hash = %v", err)
	}
}

func TestCanceledWaitReturnsContextError(t *testing.T) {
	h := NewHasher(cheap, 1, time.Minute)
	release, err := h.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash = %v, want context.Canceled", err)
	}
}

func TestSlotsBoundConcurrency(t *testing.T) {
	const slots = 3
	h := NewHasher(cheap, slots, time.Minute)
	var inFlight, peak atomic.Int32
	gate := make(chan struct{})
	h.key = func(password, salt []byte, tm, mem uint32, th uint8, n uint32) []byte {
		cur := inFlight.Add(1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		<-gate
		inFlight.Add(-1)
		return argon2.IDKey(password, salt, tm, mem, th, n)
	}
	errs := make(chan error)
	for range 10 {
		go func() {
			_, err := h.Hash(context.Background(), "pw")
			errs <- err
		}()
	}
	close(gate)
	for range 10 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p > slots {
		t.Fatalf("%d computations ran at once, want at most %d", p, slots)
	}
}

func TestVerifyDummyCostsARealVerification(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 1, 0)

	type call struct {
		time, memory uint32
		threads      uint8
		keyLen       uint32
		saltLen      int
	}
	var calls []call
	h.key = func(password, salt []byte, tm, mem uint32, th uint8, n uint32) []byte {
		calls = append(calls, call{tm, mem, th, n, len(salt)})
		return argon2.IDKey(password, salt, tm, mem, th, n)
	}

	phc, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	calls = nil
	if _, _, err := h.Verify(ctx, phc, "wrong"); err != nil {
		t.Fatal(err)
	}
	real := calls
	calls = nil
	if err := h.VerifyDummy(ctx, "wrong"); err != nil {
		t.Fatal(err)
	}
	if len(real) != 1 || len(calls) != 1 || real[0] != calls[0] {
		t.Fatalf("dummy computations %+v, real ones %+v: want one identical argon2id call each", calls, real)
	}

	// The dummy goes through the same slots, so it is as likely to be busy.
	release, _ := h.acquire(ctx)
	defer release()
	if err := h.VerifyDummy(ctx, "pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("VerifyDummy with no free slot = %v, want ErrBusy", err)
	}
}

func TestDummyMatchesNoPassword(t *testing.T) {
	h := NewHasher(cheap, 1, 0)
	for _, pw := range []string{"", "pw", "password"} {
		if ok, _, err := h.Verify(context.Background(), h.dummy, pw); ok || err != nil {
			t.Fatalf("dummy hash matched %q (err %v)", pw, err)
		}
	}
}

// TestSlotsAndWaitsAreReported: InUse counts the computations holding a
// slot, and Waited hears of every wait for one: those that got it and those
// that ended busy, not those whose request went away.
func TestSlotsAndWaitsAreReported(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 2, 0)
	type waited struct{ busy bool }
	var got []waited
	h.Waited = func(d time.Duration, busy bool) {
		if d < 0 {
			t.Errorf("negative wait %v", d)
		}
		got = append(got, waited{busy})
	}
	if h.Slots() != 2 || h.InUse() != 0 {
		t.Fatalf("Slots, InUse = %d, %d; want 2, 0", h.Slots(), h.InUse())
	}
	phc, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if h.InUse() != 0 {
		t.Fatalf("InUse after a hash = %d, want 0", h.InUse())
	}
	r1, _ := h.acquire(ctx)
	r2, _ := h.acquire(ctx)
	if h.InUse() != 2 {
		t.Fatalf("InUse with both slots held = %d, want 2", h.InUse())
	}
	if _, _, err := h.Verify(ctx, phc, "pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Verify = %v, want ErrBusy", err)
	}
	h.Wait = time.Minute
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.Hash(gone, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash = %v, want context.Canceled", err)
	}
	r1()
	r2()
	want := []waited{{false}, {false}, {false}, {true}} // Hash, the two held slots, the busy Verify
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Waited heard %v, want %v", got, want)
	}
}
