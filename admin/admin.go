package admin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/stepgate/stepgate/login"
	"github.com/stepgate/stepgate/storage"
)

// Service runs the operations against one store.
type Service struct {
	Store storage.Store
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand is the source of secrets, IDs and codes; crypto/rand when nil.
	Rand io.Reader
	// Hasher hashes passwords set by an administrator.
	Hasher *login.Hasher
	// CodeKey is the key backup codes are hashed with (the master key's
	// derivation for codes, as the login uses).
	CodeKey []byte
	// ConsoleClientID is StepGate's own console client, which cannot be
	// deleted; empty while there is none.
	ConsoleClientID string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

func (s *Service) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

// An Actor is who asks for an operation; it is written to every audit row
// the operation makes.
type Actor struct {
	Kind ActorKind
	// ID is the admin's user ID, the API client's ID, or the OS user name
	// for the CLI (may be empty).
	ID string
}

// ActorKind says through which door an operation came.
type ActorKind string

const (
	ActorUser      ActorKind = "user" // a signed-in administrator (console)
	ActorAPIClient ActorKind = "api"  // an admin API client
	ActorCLI       ActorKind = "cli"  // the command line, with the OS user
)

// CLI is the actor of a command run by the named OS user.
func CLI(osUser string) Actor { return Actor{Kind: ActorCLI, ID: strings.TrimSpace(osUser)} }

// String is the actor as the audit trail records it: "cli:alice",
// "user:<id>", "api:<client id>", or just the kind when there is no ID.
func (a Actor) String() string {
	if a.ID == "" {
		return string(a.Kind)
	}
	return string(a.Kind) + ":" + a.ID
}

// FieldErrors are the fields of an input that break a rule, each with a
// sentence for the person who typed it. It matches storage.ErrInvalid with
// errors.Is; a form shows each beside its field, the API returns them as a
// problem's invalid-params, the CLI prints them with the flag's name.
type FieldErrors []*storage.FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

func (fe FieldErrors) Is(target error) bool { return target == storage.ErrInvalid }

// fields collects field errors while an input is checked.
type fields FieldErrors

func (f *fields) add(field, reason string) {
	*f = append(*f, &storage.FieldError{Field: field, Reason: reason})
}

// err is nil when nothing was added, else the FieldErrors.
func (f fields) err() error {
	if len(f) == 0 {
		return nil
	}
	return FieldErrors(f)
}

// asFieldErrors turns a storage *FieldError (a record the model refused)
// into FieldErrors; other errors are returned as they are.
func asFieldErrors(err error) error {
	var fe *storage.FieldError
	if errors.As(err, &fe) {
		return FieldErrors{fe}
	}
	return err
}

// NotFoundError says which thing the operation was asked about does not
// exist. It matches storage.ErrNotFound.
type NotFoundError struct {
	What string // "user", "client"
	Ref  string // what was asked for: an ID or an email
}

func (e *NotFoundError) Error() string        { return fmt.Sprintf("no %s %q", e.What, e.Ref) }
func (e *NotFoundError) Is(target error) bool { return target == storage.ErrNotFound }

// ConflictError says the change clashes with what exists (a taken email, a
// second owner, the console's own client). It matches storage.ErrConflict.
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string        { return e.Reason }
func (e *ConflictError) Is(target error) bool { return target == storage.ErrConflict }

// tx runs fn in one transaction of the service's store.
func (s *Service) tx(ctx context.Context, fn func(tx storage.Store) error) error {
	return s.Store.InTx(ctx, fn)
}

// audit appends an event made by actor inside tx, stamping the time.
func (s *Service) audit(ctx context.Context, tx storage.Store, actor Actor, e storage.AuditEvent) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.Actor = actor.String()
	if e.Result == "" {
		e.Result = storage.ResultSuccess
	}
	return tx.AppendAudit(ctx, &e)
}
