package e2e

import (
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// control is one form control: an input, select, textarea or button.
type control struct {
	kind     string // "text" (text-like inputs, hidden, textarea), "check" (checkbox), "radio", "select", "button", "other"
	name     string
	value    string
	checked  bool
	options  []option // select
	multiple bool
	disabled bool
	readonly bool
	typ      string // the input's type, for messages
	label    string // a button's text
	n        *html.Node
}

type option struct {
	value, label string
	selected     bool
	disabled     bool
}

func (p *Page) parseForm(n *html.Node) *Form {
	f := &Form{ID: attr(n, "id"), Method: strings.ToUpper(attr(n, "method")), page: p,
		enctype: strings.ToLower(attr(n, "enctype"))}
	if f.Method != "POST" {
		f.Method = "GET"
	}
	f.Action = p.URL
	if a := attr(n, "action"); a != "" {
		if u, err := p.URL.Parse(a); err == nil {
			f.Action = u
		}
	}
	walk(n, func(c *html.Node) bool {
		if c.Type != html.ElementNode {
			return true
		}
		switch c.DataAtom {
		case atom.Input:
			f.controls = append(f.controls, inputControl(c))
		case atom.Textarea:
			f.controls = append(f.controls, &control{kind: "text", typ: "textarea", name: attr(c, "name"),
				value: Element{c}.raw(), disabled: hasAttr(c, "disabled"),
				readonly: hasAttr(c, "readonly"), n: c})
		case atom.Select:
			f.controls = append(f.controls, selectControl(c))
			return false
		case atom.Button:
			typ := strings.ToLower(attr(c, "type"))
			kind := "button"
			if typ != "" && typ != "submit" {
				kind = "other"
			}
			f.controls = append(f.controls, &control{kind: kind, typ: "button", name: attr(c, "name"),
				value: attr(c, "value"), label: Element{c}.Text(), disabled: hasAttr(c, "disabled"), n: c})
			return false
		}
		return true
	})
	return f
}

func inputControl(n *html.Node) *control {
	typ := strings.ToLower(attr(n, "type"))
	c := &control{typ: typ, name: attr(n, "name"), value: attr(n, "value"), disabled: hasAttr(n, "disabled"),
		readonly: hasAttr(n, "readonly"), checked: hasAttr(n, "checked"), n: n}
	switch typ {
	case "checkbox", "radio":
		c.kind = map[string]string{"checkbox": "check", "radio": "radio"}[typ]
		if !hasAttr(n, "value") {
			c.value = "on"
		}
	case "submit", "image":
		c.kind, c.label = "button", c.value
	case "button", "reset", "file":
		c.kind = "other"
	default: // text, hidden, email, password, number, search… (and unknown types, as text)
		c.kind = "text"
	}
	return c
}

func selectControl(n *html.Node) *control {
	c := &control{kind: "select", typ: "select", name: attr(n, "name"), multiple: hasAttr(n, "multiple"),
		disabled: hasAttr(n, "disabled"), n: n}
	walk(n, func(o *html.Node) bool {
		if o.Type == html.ElementNode && o.DataAtom == atom.Option {
			label := Element{o}.Text()
			value := label
			if hasAttr(o, "value") {
				value = attr(o, "value")
			}
			c.options = append(c.options, option{value: value, label: label, selected: hasAttr(o, "selected"),
				disabled: hasAttr(o, "disabled")})
		}
		return true
	})
	return c
}

// raw is the element's text exactly as parsed (a textarea's value: the
// parser drops the newline right after <textarea>).
func (e Element) raw() string {
	var b strings.Builder
	walk(e.n, func(n *html.Node) bool {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		return true
	})
	return b.String()
}

func (f *Form) button(label string) *control {
	for _, c := range f.controls {
		if c.kind == "button" && (c.label == label || c.name == label || c.value == label ||
			attr(c.n, "aria-label") == label) {
			return c
		}
	}
	return nil
}

// named is the form's controls called name, failing the test if there is
// none a user could change.
func (f *Form) named(name string) []*control {
	t := f.page.browser.t
	t.Helper()
	var cs []*control
	for _, c := range f.controls {
		if c.name == name && c.kind != "button" && c.kind != "other" {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		t.Fatalf("form %s %s has no field %q (fields: %s)", f.Method, f.Action.Path, name, strings.Join(f.fieldNames(), ", "))
	}
	for _, c := range cs {
		if c.disabled || c.readonly && c.kind == "text" && c.typ != "hidden" {
			t.Fatalf("field %q of form %s is disabled or read-only", name, f.Action.Path)
		}
	}
	return cs
}

func (f *Form) fieldNames() []string {
	var names []string
	for _, c := range f.controls {
		if c.name != "" && c.kind != "button" && c.kind != "other" && !slices.Contains(names, c.name) {
			names = append(names, c.name)
		}
	}
	return names
}

// Set gives the field name the value, as a user would: it types into a text
// field (a hidden one too: a test may forge what a browser sends), chooses
// the option of a select with that value or label, checks the radio button
// with that value, and checks the checkbox with that value ("" unchecks
// every checkbox of the name). It fails the test if the form has no such
// field or option. Set returns f, to chain.
func (f *Form) Set(name, value string) *Form {
	t := f.page.browser.t
	t.Helper()
	cs := f.named(name)
	switch cs[0].kind {
	case "text":
		cs[0].value = value
	case "select":
		s := cs[0]
		i := slices.IndexFunc(s.options, func(o option) bool { return o.value == value || o.label == value })
		if i < 0 || s.options[i].disabled {
			t.Fatalf("select %q has no option %q", name, value)
		}
		for j := range s.options {
			s.options[j].selected = j == i
		}
	case "radio":
		f.check(name, value, true)
	case "check":
		if value == "" {
			for _, c := range cs {
				c.checked = false
			}
			break
		}
		f.check(name, value, true)
	}
	return f
}

// Check checks the checkbox or radio button name with value ("" when it is
// the only one of its name); a radio button unchecks the rest of its group.
func (f *Form) Check(name, value string) *Form {
	f.page.browser.t.Helper()
	f.check(name, value, true)
	return f
}

// Uncheck unchecks the checkbox name with value ("" when it is the only one
// of its name).
func (f *Form) Uncheck(name, value string) *Form {
	f.page.browser.t.Helper()
	f.check(name, value, false)
	return f
}

func (f *Form) check(name, value string, on bool) {
	t := f.page.browser.t
	t.Helper()
	cs := f.named(name)
	var hit *control
	for _, c := range cs {
		if (c.kind == "check" || c.kind == "radio") && (c.value == value || value == "" && len(cs) == 1) {
			hit = c
		}
	}
	if hit == nil {
		t.Fatalf("form %s has no checkbox or radio button %q with value %q", f.Action.Path, name, value)
	}
	if hit.kind == "radio" && on {
		for _, c := range cs {
			c.checked = false
		}
	}
	hit.checked = on
}

// Add adds a name and value the form does not have, as a forged request
// would send.
func (f *Form) Add(name, value string) *Form {
	if f.extra == nil {
		f.extra = url.Values{}
	}
	f.extra.Add(name, value)
	return f
}

// Get is the value field name would be submitted with ("" if none).
func (f *Form) Get(name string) string { return f.Values().Get(name) }

// Values is what submitting the form sends: every enabled, named field's
// value, the checked checkboxes and radio buttons, the selected options,
// the submitting button's name and value, and what Add added.
func (f *Form) Values() url.Values {
	v := url.Values{}
	submitter := f.submitter
	if submitter == nil {
		submitter = f.firstButton()
	}
	for _, c := range f.controls {
		if c.name == "" || c.disabled {
			continue
		}
		switch c.kind {
		case "text":
			v.Add(c.name, c.value)
		case "check", "radio":
			if c.checked {
				v.Add(c.name, c.value)
			}
		case "select":
			picked := false
			for _, o := range c.options {
				if o.selected && !o.disabled {
					v.Add(c.name, o.value)
					picked = true
				}
			}
			if i := slices.IndexFunc(c.options, func(o option) bool { return !o.disabled }); !picked && !c.multiple && i >= 0 {
				v.Add(c.name, c.options[i].value)
			}
		case "button":
			if c == submitter {
				v.Add(c.name, c.value)
			}
		}
	}
	for k, vals := range f.extra {
		v[k] = append(v[k], vals...)
	}
	return v
}

func (f *Form) firstButton() *control {
	for _, c := range f.controls {
		if c.kind == "button" && !c.disabled {
			return c
		}
	}
	return nil
}
