package e2e

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Form is one form of a page, with the values a browser would submit: its
// fields' defaults until the test changes them. Changing one Form does not
// change the page or another Form of it.
type Form struct {
	// ID is the form's id attribute.
	ID string
	// Method is GET or POST.
	Method string
	// Action is where the form submits to, resolved against the page's URL.
	Action *url.URL

	page      *Page
	enctype   string
	controls  []*control
	extra     url.Values
	submitter *control // the button it is submitted with; nil: its first
}

// A FormSelector picks one of a page's forms.
type FormSelector struct {
	desc  string
	match func(*Form) (bool, *control)
}

// WithAction picks the form that submits to path (the action's path, or its
// end when the issuer has a path of its own: "/login/otp" matches
// "/auth/login/otp"), or to that absolute URL.
func WithAction(path string) FormSelector {
	return FormSelector{"action " + path, func(f *Form) (bool, *control) {
		a := f.Action
		return a.Path == path || strings.HasPrefix(path, "/") && strings.HasSuffix(a.Path, path) ||
			strings.Contains(path, "://") && a.String() == path, nil
	}}
}

// WithID picks the form with the id.
func WithID(id string) FormSelector {
	return FormSelector{"id " + id, func(f *Form) (bool, *control) { return f.ID == id, nil }}
}

// WithButton picks the form with a submit button named or labelled label
// (its text, value, name or aria-label), and submits it with that button.
func WithButton(label string) FormSelector {
	return FormSelector{"button " + label, func(f *Form) (bool, *control) {
		b := f.button(label)
		return b != nil, b
	}}
}

// Forms are the page's forms, in page order.
func (p *Page) Forms() []*Form {
	var forms []*Form
	walk(p.document(), func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.DataAtom == atom.Form {
			forms = append(forms, p.parseForm(n))
		}
		return true
	})
	return forms
}

// Form is the page's first form, or with selectors the one form that
// matches them all. It fails the test if there is no such form, or several.
func (p *Page) Form(sel ...FormSelector) *Form {
	p.browser.t.Helper()
	forms := p.Forms()
	if len(sel) == 0 {
		if len(forms) == 0 {
			p.browser.t.Fatalf("no form on %s (status %d):\n%s", p.URL, p.Status, p.Body)
		}
		return forms[0]
	}
	found := p.matching(forms, sel)
	if len(found) != 1 {
		var want []string
		for _, s := range sel {
			want = append(want, s.desc)
		}
		p.browser.t.Fatalf("%d forms with %s on %s (status %d); the page has %s",
			len(found), strings.Join(want, " and "), p.URL, p.Status, describe(forms))
	}
	return found[0]
}

// HasForm reports whether some form of the page matches every selector.
func (p *Page) HasForm(sel ...FormSelector) bool { return len(p.matching(p.Forms(), sel)) > 0 }

func (p *Page) matching(forms []*Form, sel []FormSelector) []*Form {
	var found []*Form
	for _, f := range forms {
		ok, submitter := true, (*control)(nil)
		for _, s := range sel {
			m, b := s.match(f)
			ok = ok && m
			if b != nil {
				submitter = b
			}
		}
		if ok {
			f.submitter = submitter
			found = append(found, f)
		}
	}
	return found
}

func describe(forms []*Form) string {
	if len(forms) == 0 {
		return "no form"
	}
	var d []string
	for _, f := range forms {
		var buttons []string
		for _, c := range f.controls {
			if c.kind == "button" {
				buttons = append(buttons, fmt.Sprintf("%q", c.label))
			}
		}
		d = append(d, fmt.Sprintf("%s %s (id %q, buttons %s)", f.Method, f.Action.Path, f.ID, strings.Join(buttons, ", ")))
	}
	return strings.Join(d, "; ")
}

// Submit submits the form as its button (the one WithButton picked, or its
// first) does, and returns the page the browser ends on.
func (f *Form) Submit() *Page {
	b := f.page.browser
	b.t.Helper()
	method, action := f.Method, f.Action
	s := f.submitter
	if s == nil {
		s = f.firstButton()
	}
	if s != nil {
		if a := attr(s.n, "formaction"); a != "" {
			if u, err := f.page.URL.Parse(a); err == nil {
				action = u
			}
		}
		if m := strings.ToUpper(attr(s.n, "formmethod")); m == "GET" || m == "POST" {
			method = m
		}
	}
	if f.enctype == "multipart/form-data" {
		b.t.Fatalf("form %s: multipart/form-data is not supported", f.Action.Path)
	}
	if method == "GET" {
		u := *action
		u.RawQuery = f.Values().Encode()
		return b.Get(u.String())
	}
	return b.Post(action.String(), f.Values())
}

// Press submits the form with the button named or labelled label.
func (f *Form) Press(label string) *Page {
	f.page.browser.t.Helper()
	b := f.button(label)
	if b == nil {
		f.page.browser.t.Fatalf("form %s has no button %q (%s)", f.Action.Path, label, describe([]*Form{f}))
	}
	f.submitter = b
	return f.Submit()
}
