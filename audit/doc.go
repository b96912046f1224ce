// Package audit writes and reads the audit trail: who tried what, from
// where, with what result — never a secret.
package audit
