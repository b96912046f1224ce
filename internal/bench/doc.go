// Package bench is the load benchmark behind `stepgate bench`: it starts
// StepGate as a child process on a fresh database (or drives a running
// server), seeds users with bound authenticators, and drives real HTTP
// against it — the browser login with PKCE and TOTP, password-only logins,
// refresh grants, introspection, discovery and JWKS. In the same run it
// measures what the work cannot be cheaper than: argon2id hashes per second
// with the server's parameters, and a bare net/http server serving the same
// discovery and JWKS bytes. Each figure comes with its ratio to that floor,
// p50/p99 latency, the server's CPU time per operation and its peak RSS, read
// from /proc of the server's own process, so the load generator's work is
// never counted as the server's.
package bench
