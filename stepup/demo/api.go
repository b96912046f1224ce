package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/stepgate/stepgate/stepup"
)

// secret is the protected API. It runs only behind the step-up middleware,
// so the claims are there and meet APIRequirement.
func secret(w http.ResponseWriter, r *http.Request) {
	c, _ := stepup.ClaimsFrom(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{
		"secret": "The vault combination is 12-34-56.", "sub": c.Subject, "acr": c.ACR, "amr": c.AMR,
		"auth_time": c.AuthTime.Unix(),
	})
}

// call is the "Call the protected API" button. A step-up challenge from the
// API sends the browser to StepGate; any other answer is shown as it is.
func (a *app) call(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	s := a.session(w, r, false)
	ok := checkCSRF(s, r)
	var u *user
	if ok {
		u = s.user
	}
	a.mu.Unlock()
	if !ok || u == nil {
		a.fail(w, r, http.StatusForbidden, "Log in first.", nil)
		return
	}
	res, ch := a.callAPI(r.Context(), u.accessToken)
	if ch != nil && ch.Error == stepup.ErrorInsufficientUserAuthentication {
		a.startLogin(w, r, s, ch, true)
		return
	}
	a.mu.Lock()
	s.result = &res
	a.mu.Unlock()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// callAPI calls /api/secret with the access token. On a 401 it also returns
// the Bearer challenge.
func (a *app) callAPI(ctx context.Context, accessToken string) (apiResult, *stepup.Challenge) {
	res := apiResult{At: time.Now()}
	req, err := http.NewRequestWithContext(ctx, "GET", a.cfg.BaseURL+"/api/secret", nil)
	if err != nil {
		res.Body = err.Error()
		return res, nil
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		a.cfg.Log.ErrorContext(ctx, "call API", "err", err)
		res.Body = "The API could not be reached."
		return res, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	res.Status, res.Body = resp.StatusCode, string(body)
	if resp.StatusCode != http.StatusUnauthorized {
		return res, nil
	}
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		if ch, ok := stepup.ParseChallenge(h); ok {
			res.Body = fmt.Sprintf("WWW-Authenticate: %s", h)
			return res, &ch
		}
	}
	return res, nil
}
