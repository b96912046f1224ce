package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/stepup"
)

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	s := a.session(w, r, true)
	a.mu.Unlock()
	a.startLogin(w, r, s, nil, false)
}

// startLogin sends the browser to the authorization endpoint. For a
// step-up, the challenge's acr_values and max_age go into the request as
// they are (RFC 9470 §4); prompt is not set, so StepGate asks only for what
// the session lacks.
func (a *app) startLogin(w http.ResponseWriter, r *http.Request, s *session, stepUp *stepup.Challenge, thenCall bool) {
	att := &attempt{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier(), thenCall: thenCall}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(att.nonce), oauth2.S256ChallengeOption(att.verifier)}
	if stepUp != nil {
		if len(stepUp.ACRValues) > 0 {
			opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(stepUp.ACRValues, " ")))
		}
		if stepUp.MaxAge != nil {
			opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.FormatInt(*stepUp.MaxAge, 10)))
		}
	}
	a.mu.Lock()
	s.pending = att
	a.mu.Unlock()
	http.Redirect(w, r, a.oauth.AuthCodeURL(att.state, opts...), http.StatusSeeOther)
}

// callback completes the authorization request the session started: code
// exchange with the PKCE verifier, ID token verification with the nonce.
// After a step-up it calls the API again, so the page shows the outcome.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	s := a.session(w, r, false)
	var att *attempt
	if s != nil {
		att, s.pending = s.pending, nil // one use, whatever the outcome
	}
	a.mu.Unlock()
	if att == nil || q.Get("state") != att.state {
		a.fail(w, r, http.StatusBadRequest, "This login was not started here or has already finished. Log in again.", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		msg := "StepGate answered " + e
		if d := q.Get("error_description"); d != "" {
			msg += ": " + d
		}
		a.fail(w, r, http.StatusOK, msg, nil)
		return
	}
	ctx := oidc.ClientContext(r.Context(), a.cfg.HTTPClient)
	u, err := a.exchange(ctx, q.Get("code"), att)
	if err != nil {
		a.fail(w, r, http.StatusBadGateway, "The login could not be completed.", err)
		return
	}
	var res *apiResult
	if att.thenCall {
		got, _ := a.callAPI(ctx, u.accessToken)
		res = &got
	}
	a.mu.Lock()
	s.user, s.result = u, res
	a.mu.Unlock()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) exchange(ctx context.Context, code string, att *attempt) (*user, error) {
	tok, err := a.oauth.Exchange(ctx, code, oauth2.VerifierOption(att.verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.idTokens.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify ID token: %w", err)
	}
	if idt.Nonce != att.nonce {
		return nil, errors.New("ID token nonce does not match")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, fmt.Errorf("at_hash: %w", err)
		}
	}
	var c struct {
		Email    string   `json:"email"`
		Name     string   `json:"name"`
		ACR      string   `json:"acr"`
		AMR      []string `json:"amr"`
		AuthTime int64    `json:"auth_time"`
	}
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("ID token claims: %w", err)
	}
	u := &user{Name: c.Email, Subject: idt.Subject, ACR: c.ACR, AMR: c.AMR,
		AuthTime: time.Unix(c.AuthTime, 0), accessToken: tok.AccessToken}
	if c.Name != "" {
		u.Name = c.Name + " <" + c.Email + ">"
	}
	return u, nil
}
