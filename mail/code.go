package mail

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"
)

// Purposes of a one-time code sent by email.
const (
	PurposeLogin    = "login"     // second factor at sign-in
	PurposeBindTOTP = "bind-totp" // confirms adding an authenticator app
)

// codeText is the wording of one code message. All user-visible words live
// in codeTexts and validityTexts so that a translation replaces two maps.
// Intro takes the application name.
type codeText struct {
	Subject string
	Intro   string // e.g. "Use this code to sign in to %s:"
	Ignore  string
}

var codeTexts = map[string]codeText{
	PurposeLogin: {
		Subject: "Your sign-in code",
		Intro:   "Use this code to sign in to %s:",
		Ignore:  "If you are not signing in, ignore this message.",
	},
	PurposeBindTOTP: {
		Subject: "Confirm setting up an authenticator app",
		Intro:   "Use this code to confirm setting up an authenticator app for %s:",
		Ignore:  "If you are not setting up an authenticator app, ignore this message.",
	},
	"": { // any purpose without its own text
		Subject: "Your verification code",
		Intro:   "Your verification code for %s:",
		Ignore:  "If you did not ask for it, ignore this message.",
	},
}

// validityTexts words "valid for N units"; one and many are the singular and
// plural forms, each taking the number.
var validityTexts = struct {
	Prefix                string
	HourOne, HourMany     string
	MinuteOne, MinuteMany string
	SecondOne, SecondMany string
}{
	Prefix:  "The code is valid for %s.",
	HourOne: "%d hour", HourMany: "%d hours",
	MinuteOne: "%d minute", MinuteMany: "%d minutes",
	SecondOne: "%d second", SecondMany: "%d seconds",
}

// validity words d in the largest unit that divides it exactly.
func validity(d time.Duration) string {
	plural := func(n int64, one, many string) string {
		if n == 1 {
			return fmt.Sprintf(one, n)
		}
		return fmt.Sprintf(many, n)
	}
	v := validityTexts
	var s string
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		s = plural(int64(d/time.Hour), v.HourOne, v.HourMany)
	case d >= time.Minute && d%time.Minute == 0:
		s = plural(int64(d/time.Minute), v.MinuteOne, v.MinuteMany)
	default:
		s = plural(int64(d.Round(time.Second)/time.Second), v.SecondOne, v.SecondMany)
	}
	return fmt.Sprintf(v.Prefix, s)
}

var codeHTML = template.Must(template.New("code").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; color: #222;">
<p>{{.Intro}}</p>
<p style="font-family: monospace; font-size: 28px; font-weight: bold; letter-spacing: 4px;">{{.Code}}</p>
{{- if .Validity}}
<p>{{.Validity}}</p>
{{- end}}
<p style="color: #666;">{{.Ignore}}</p>
</body></html>
`))

// CodeMessage is the email carrying a one-time code. It holds the code, what
// it is for and how long it is valid, and nothing else: no link and no
// account data, so a forwarded or intercepted message reveals little and
// cannot be mistaken for a phishing template. validFor <= 0 leaves the
// validity out. An unknown purpose gets a generic wording.
func CodeMessage(to, purpose, code string, validFor time.Duration, appName string) Message {
	t, ok := codeTexts[purpose]
	if !ok {
		t = codeTexts[""]
	}
	data := struct {
		Subject, Intro, Code, Validity, Ignore string
	}{
		Subject: t.Subject,
		Intro:   fmt.Sprintf(t.Intro, appName),
		Code:    code,
		Ignore:  t.Ignore,
	}
	if validFor > 0 {
		data.Validity = validity(validFor)
	}

	var text strings.Builder
	text.WriteString(data.Intro + "\n\n    " + data.Code + "\n\n")
	if data.Validity != "" {
		text.WriteString(data.Validity + "\n")
	}
	text.WriteString(data.Ignore + "\n")

	var html bytes.Buffer
	if err := codeHTML.Execute(&html, data); err != nil {
		// The template and its data are fixed; a failure is a bug.
		panic("mail: code template: " + err.Error())
	}
	return Message{To: to, Subject: t.Subject, Text: text.String(), HTML: html.String()}
}
