// Package docs has no code: its tests hold the README to what StepGate does,
// by running the README's commands exactly as they are written there.
package docs
