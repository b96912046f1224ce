// Package mfa holds second factors and policy as plain code: TOTP, email
// codes, backup codes, lockout, and the decision of what a login must do
// next.
package mfa
