// Package stepup lets resource servers demand a stronger or fresher StepGate login (RFC 9470).
//
// A Verifier checks StepGate's JWT access tokens against the issuer's
// published keys; its Middleware then compares the token's acr and auth_time
// with a Requirement and, when they fall short, answers 401 with an
// insufficient_user_authentication challenge that tells the client which
// acr_values and max_age to ask StepGate for. ParseChallenge is the client's
// half: it reads that challenge back from a WWW-Authenticate header.
package stepup
