// Command stepgate is the StepGate OpenID Provider: one binary that serves,
// migrates, and manages keys, users and clients. The command line itself is
// package internal/cli.
package main

import "github.com/stepgate/stepgate/internal/cli"

func main() { cli.Main() }
