// Package migrations holds StepGate's numbered, append-only SQL migrations for
// each dialect (postgres/, sqlite/), embedded in the binary, and the runner
// that applies them, each in its own transaction, recording what was applied.
package migrations
