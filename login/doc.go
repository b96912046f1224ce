// Package login serves the login flow pages and handlers: password, factor
// choice, codes, binding, step-up.
package login
