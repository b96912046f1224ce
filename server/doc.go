// Package server builds StepGate's whole HTTP handler — the OpenID
// Provider's endpoints, the login pages, the health checks and the
// middleware around them — from values: a Config, the store, the mailer,
// the keys and one clock that every time-dependent rule reads. The stepgate
// command and the tests both start the server through it.
package server
