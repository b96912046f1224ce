// Package op is StepGate's OpenID Provider: the zitadel/oidc op.Storage
// adapter over storage.Store, the client and request types the library
// needs, token issuance with amr/acr/auth_time, and the HTTP handler that
// serves discovery, JWKS and the protocol endpoints.
package op
