package main

import (
	"context"
	"fmt"
)

func cmdVersion(_ context.Context, e env, _ []string) error {
	fmt.Fprintln(e.stdout, "stepgate", version)
	return nil
}
