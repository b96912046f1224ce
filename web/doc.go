// Package web holds StepGate's page templates and static files, embedded in
// the binary, and the one function that renders a page.
package web
