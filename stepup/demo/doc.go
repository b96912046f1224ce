// Package demo is a small relying party and protected API that show RFC 9470
// step-up against StepGate: the app logs in with a password, calls an API
// that demands "2fa" within five minutes, and on the API's
// insufficient_user_authentication challenge sends the browser back to
// StepGate with the challenge's acr_values and max_age. cmd/stepgate-demo
// runs it; the end-to-end tests drive it in-process.
package demo
