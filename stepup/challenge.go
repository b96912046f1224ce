package stepup

import (
	"strconv"
	"strings"
)

// Error codes of a Bearer challenge (RFC 6750 §3.1, RFC 9470 §3).
const (
	ErrorInvalidRequest                 = "invalid_request"
	ErrorInvalidToken                   = "invalid_token"
	ErrorInsufficientUserAuthentication = "insufficient_user_authentication"
)

// Challenge is a Bearer challenge of a WWW-Authenticate header.
type Challenge struct {
	Realm string
	// Error is "" when the request carried no token.
	Error       string
	Description string
	// ACRValues are the classes the resource accepts, in order of
	// preference; pass them to the authorization request as acr_values.
	ACRValues []string
	// MaxAge in seconds; nil when the challenge has none. Pass it to the
	// authorization request as max_age.
	MaxAge *int64
}

// String is the header value: `Bearer error="…", error_description="…",
// acr_values="…", max_age="…"`, values quoted as in the RFC 9470 examples.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	param := func(name, value string) {
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(quoteEscaper.Replace(value))
		b.WriteByte('"')
		sep = ", "
	}
	if c.Realm != "" {
		param("realm", c.Realm)
	}
	if c.Error != "" {
		param("error", c.Error)
	}
	if c.Description != "" {
		param("error_description", c.Description)
	}
	if len(c.ACRValues) > 0 {
		param("acr_values", strings.Join(c.ACRValues, " "))
	}
	if c.MaxAge != nil {
		param("max_age", strconv.FormatInt(*c.MaxAge, 10))
	}
	return b.String()
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// ParseChallenge reads the Bearer challenge from a WWW-Authenticate header
// value, which may hold other challenges too (`DPoP algs="ES256", Bearer
// error="…"`). Scheme and parameter names are case-insensitive; values may be
// tokens or quoted strings (RFC 9110 §11.2). It reports false when there is
// no Bearer challenge. An unparseable max_age is left out.
func ParseChallenge(header string) (Challenge, bool) {
	p := &lexer{s: header}
	var c Challenge
	inBearer := false // once set, the loop ends at the next challenge
	seen := map[string]bool{}
	for {
		p.skip(" \t,")
		if p.i >= len(p.s) {
			break
		}
		name := p.token()
		if name == "" {
			p.i++ // not HTTP auth syntax: step over it
			continue
		}
		p.skip(" \t")
		if p.peek() != '=' {
			// A token on its own starts the next challenge (or is a
			// token68, which Bearer does not use).
			if inBearer {
				break
			}
			inBearer = strings.EqualFold(name, "Bearer")
			continue
		}
		p.i++
		p.skip(" \t")
		value, ok := "", false
		if p.peek() == '"' {
			value, ok = p.quoted()
		} else {
			value = p.token()
			ok = value != ""
		}
		if !ok {
			p.skip("=") // token68 padding
			continue
		}
		name = strings.ToLower(name)
		if !inBearer || seen[name] {
			continue // each parameter counts once (RFC 6750 §3)
		}
		seen[name] = true
		c.set(name, value)
	}
	return c, inBearer
}

func (c *Challenge) set(name, value string) {
	switch name {
	case "realm":
		c.Realm = value
	case "error":
		c.Error = value
	case "error_description":
		c.Description = value
	case "acr_values":
		c.ACRValues = strings.Fields(value)
	case "max_age":
		if n, err := strconv.ParseInt(value, 10, 64); err == nil && n >= 0 {
			c.MaxAge = &n
		}
	}
}

type lexer struct {
	s string
	i int
}

func (l *lexer) peek() byte {
	if l.i < len(l.s) {
		return l.s[l.i]
	}
	return 0
}

func (l *lexer) skip(chars string) {
	for l.i < len(l.s) && strings.IndexByte(chars, l.s[l.i]) >= 0 {
		l.i++
	}
}

// token reads an RFC 9110 token (1*tchar).
func (l *lexer) token() string {
	start := l.i
	for l.i < len(l.s) && isTchar(l.s[l.i]) {
		l.i++
	}
	return l.s[start:l.i]
}

// quoted reads a quoted-string starting at its opening quote; ok is false
// when it is not closed.
func (l *lexer) quoted() (string, bool) {
	var b strings.Builder
	for l.i++; l.i < len(l.s); l.i++ {
		switch ch := l.s[l.i]; ch {
		case '"':
			l.i++
			return b.String(), true
		case '\\':
			if l.i+1 < len(l.s) {
				l.i++
				b.WriteByte(l.s[l.i])
			}
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), false
}

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
