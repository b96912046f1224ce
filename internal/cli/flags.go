package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alecthomas/kong"
)

// The flag value types the command line needs beyond kong's own: each
// remembers whether it was given at all, and says what it accepts.

// listValue is a repeatable, comma-separated list flag: --trusted-proxies
// 10.0.0.1 --trusted-proxies "10.0.0.2, 10.1.0.0/16" is three entries. nil
// when the flag was not given.
type listValue []string

func (l *listValue) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("list", &s); err != nil {
		return err
	}
	*l = append(*l, splitList(s)...)
	if *l == nil {
		*l = listValue{} // given, if empty
	}
	return nil
}

// uriValue is a repeatable flag of URIs, one per flag: a comma is part of
// a URI (a query may hold one), so it never splits. "" gives the flag with
// no URI (an empty list). nil when the flag was not given.
type uriValue []string

func (l *uriValue) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("URI", &s); err != nil {
		return err
	}
	if s = strings.TrimSpace(s); s != "" {
		*l = append(*l, s)
	}
	if *l == nil {
		*l = uriValue{}
	}
	return nil
}

// splitList splits a comma-separated list, dropping blanks around and
// between the entries.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// onOff is an on|off flag (--otp=on) that remembers whether it was given.
type onOff struct{ v *bool }

func (o *onOff) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("on|off", &s); err != nil {
		return err
	}
	switch s {
	case "on", "true":
		v := true
		o.v = &v
	case "off", "false":
		v := false
		o.v = &v
	default:
		return fmt.Errorf("must be on or off, not %q", s)
	}
	return nil
}

func onOffString(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// optDuration is a duration flag that remembers whether it was given; -1
// means "for the whole session".
type optDuration struct{ v *time.Duration }

func (o *optDuration) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("duration", &s); err != nil {
		return err
	}
	if s == "-1" {
		d := time.Duration(-1)
		o.v = &d
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return errors.New("must be a duration like 0, 15m or 8h, or -1 for the whole session, not " + fmt.Sprintf("%q", s))
	}
	o.v = &d
	return nil
}
