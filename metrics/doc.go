// Package metrics holds StepGate's Prometheus metrics: one registry per
// server (never the global one), counters for what the login, the token
// endpoint and the mailer decide, latency per route, the password hashing
// slots and the database pool, and the handler that serves them (with
// net/http/pprof when asked) on a listener of its own.
package metrics
