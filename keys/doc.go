// Package keys owns StepGate's key material: the master key that seals every
// secret at rest, and the token-signing keys — generated, sealed under the
// master key, rotated with a published-before-use delay, and published as a
// JWK set for as long as any token they signed can still be valid.
//
// Every replica sharing a database derives the same answer from the stored
// key rows alone (which key signs now, which keys are published), so no
// coordination is needed beyond the database.
package keys
