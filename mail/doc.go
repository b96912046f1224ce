// Package mail sends StepGate's messages: one-time codes by SMTP, or in --dev
// to the log and an outbox folder.
package mail
