package op

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/stepgate/stepgate/storage"
)

// Errors out of the store or the key source that are not a storage
// sentinel ("not found", "expired", …) are the server's fault. Storage.fail
// is the one place they become protocol errors: the detail goes to the log,
// the client gets a generic server_error, or temporarily_unavailable when
// the database is down (storage.ErrUnavailable).
//
// The library does not always pass such an error on: it answers a failed
// code lookup with invalid_grant, a failed userinfo lookup with 403 and a
// failed introspection with {"active":false} — answers that tell a client to
// throw valid credentials away. So fail also marks the request as failed,
// and the HTTP layer (failureWriter) then answers the generic error whatever
// the library was about to write.

// Generic answers; they never carry the detail.
const (
	descServerError = "The server could not complete the request."
	descUnavailable = "The service is temporarily unavailable; try again shortly."
	retryAfter      = "5"
)

// failure is what one request recorded: 0 nothing, else the HTTP status of
// the generic answer.
type failure struct{ status atomic.Int32 }

type failureKey struct{}

func withFailure(ctx context.Context) (context.Context, *failure) {
	f := new(failure)
	return context.WithValue(ctx, failureKey{}, f), f
}

// failed reports whether the request already recorded a server failure:
// its answer is then the generic one, and nothing more should ask the
// database (a frozen one would make the request wait once per question).
func failed(ctx context.Context) bool {
	f, ok := ctx.Value(failureKey{}).(*failure)
	return ok && f.status.Load() != 0
}

// fail logs err with what was being done, marks the request failed and
// returns the generic protocol error. An *oidc.Error passes unchanged.
func (s *Storage) fail(ctx context.Context, what string, err error) *oidc.Error {
	if e, ok := errors.AsType[*oidc.Error](err); ok {
		return e
	}
	status := http.StatusInternalServerError
	e := oidc.ErrServerError().WithDescription(descServerError)
	if errors.Is(err, storage.ErrUnavailable) {
		status = http.StatusServiceUnavailable
		e = oidc.ErrServerError().WithDescription(descUnavailable)
		e.ErrorType = "temporarily_unavailable"
	}
	s.Log.ErrorContext(ctx, what, "err", err, "status", status)
	if f, ok := ctx.Value(failureKey{}).(*failure); ok {
		f.status.CompareAndSwap(0, int32(status))
	}
	return e
}

// failureWriter replaces whatever the library answers on a request that
// recorded a failure with the generic answer: JSON for the protocol
// endpoints, a page (page != nil) for the ones a browser opens.
type failureWriter struct {
	http.ResponseWriter
	f        *failure
	page     func(w http.ResponseWriter, status int)
	decided  bool
	replaced bool
}

func (w *failureWriter) WriteHeader(code int) {
	if w.decided {
		if !w.replaced {
			w.ResponseWriter.WriteHeader(code)
		}
		return
	}
	w.decided = true
	status := int(w.f.status.Load())
	if status == 0 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.replaced = true
	h := w.Header()
	// A challenge set on the way (WWW-Authenticate for a token the library
	// could not look up) would tell the client its credentials are bad.
	for _, k := range []string{"Location", "Content-Type", "Content-Length", "Cache-Control", "Set-Cookie", "WWW-Authenticate"} {
		h.Del(k)
	}
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", retryAfter)
	}
	h.Set("Cache-Control", "no-store")
	if w.page != nil {
		w.page(w.ResponseWriter, status)
		return
	}
	writeGenericError(w.ResponseWriter, status)
}

func (w *failureWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// writeGenericError answers a protocol request that failed on the
// server's side.
func writeGenericError(w http.ResponseWriter, status int) {
	body := map[string]string{"error": "server_error", "error_description": descServerError}
	if status == http.StatusServiceUnavailable {
		body = map[string]string{"error": "temporarily_unavailable", "error_description": descUnavailable}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
