// Package admin is every administrative operation, written once: the CLI,
// the console and the admin API only translate their input into a call here
// and its result or *FieldErrors back into their own format.
//
// An operation takes an Actor and an input value, validates it (field
// errors), and does its work in one transaction: the state a decision reads
// and the change it makes are the same transaction's, and the audit row
// naming the actor is written in it too. Time and randomness come from the
// Service, so tests control them.
package admin
