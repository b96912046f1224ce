package stepup

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Requirement is what a resource demands of the login behind a token.
type Requirement struct {
	// ACR is the weakest acceptable authentication context class, e.g.
	// "2fa"; "" accepts any.
	ACR string
	// MaxAge is how long ago the user may have last authenticated
	// (auth_time); 0 means no limit.
	MaxAge time.Duration
}

// acrRank orders the classes StepGate issues. A class not listed here meets
// only a requirement for exactly that class.
var acrRank = map[string]int{"1fa": 1, "2fa": 2}

// acrMeets reports whether a token with acr have satisfies want.
func acrMeets(have, want string) bool {
	if want == "" || have == want {
		return true
	}
	h, okH := acrRank[have]
	w, okW := acrRank[want]
	return okH && okW && h >= w
}

// check compares the claims with the requirement. When they fall short it
// returns the challenge for the client.
//
// The challenge repeats acr_values whenever the requirement names a class,
// also when only the age failed: the new token must meet both, and a client
// that re-authenticated with max_age alone could come back with a weaker
// token (a password-only StepGate login is 1fa) and need a second trip.
func (req Requirement) check(c *Claims, now time.Time) (Challenge, bool) {
	weak := !acrMeets(c.ACR, req.ACR)
	old := req.MaxAge > 0 && (c.AuthTime.IsZero() || now.Sub(c.AuthTime) > req.MaxAge)
	if !weak && !old {
		return Challenge{}, true
	}
	ch := Challenge{Error: ErrorInsufficientUserAuthentication}
	if req.ACR != "" {
		ch.ACRValues = []string{req.ACR}
	}
	if old {
		s := int64(req.MaxAge / time.Second)
		ch.MaxAge = &s
	}
	switch {
	case weak && old:
		ch.Description = "A stronger and more recent authentication is required"
	case weak:
		ch.Description = "A different authentication level is required"
	default:
		ch.Description = "More recent authentication is required"
	}
	return ch, false
}

type claimsKey struct{}

// ClaimsFrom returns the claims Middleware verified for this request.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// Middleware lets a request through to next only with a valid bearer token
// that meets req; the claims are then in the request context (ClaimsFrom).
// Otherwise it answers as RFC 6750 §3 and RFC 9470 §3 say:
//
//   - no token: 401, a challenge without an error code;
//   - "Bearer" with nothing after it: 400 invalid_request;
//   - a token that does not verify: 401 invalid_token;
//   - a valid token whose login is too weak or too old: 401
//     insufficient_user_authentication with acr_values and/or max_age.
func (v *Verifier) Middleware(req Requirement, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, present := bearerToken(r)
		if !present {
			v.deny(w, http.StatusUnauthorized, Challenge{})
			return
		}
		if raw == "" {
			v.deny(w, http.StatusBadRequest, Challenge{Error: ErrorInvalidRequest, Description: "The bearer token is empty"})
			return
		}
		c, err := v.Verify(r.Context(), raw)
		if err != nil {
			desc := "The access token is not valid"
			if _, expired := errors.AsType[*oidc.TokenExpiredError](err); expired {
				desc = "The access token expired"
			}
			v.deny(w, http.StatusUnauthorized, Challenge{Error: ErrorInvalidToken, Description: desc})
			return
		}
		if ch, ok := req.check(c, v.now()); !ok {
			v.deny(w, http.StatusUnauthorized, ch)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}

// bearerToken returns the token of an "Authorization: Bearer …" header and
// whether the request carried one at all. Other schemes count as no token.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

func (v *Verifier) deny(w http.ResponseWriter, status int, ch Challenge) {
	ch.Realm = v.realm
	w.Header().Set("WWW-Authenticate", ch.String())
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(status), status)
}
