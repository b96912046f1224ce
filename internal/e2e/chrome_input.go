package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Roles of the controls a user types into, and of those a user activates,
// as Chromium's accessibility tree names them.
var (
	fieldRoles     = []string{"textbox", "searchbox", "combobox", "spinbutton", "listbox", "TextField"}
	clickableRoles = []string{"button", "link", "checkbox", "radio", "switch", "tab", "menuitem",
		"menuitemcheckbox", "menuitemradio", "option", "DisclosureTriangle", "combobox", "PopUpButton", "ToggleButton"}
)

// A Control is an interactive element as assistive technology sees it.
type Control struct {
	Role, Name string
}

func (c Control) String() string { return fmt.Sprintf("%s %q", c.Role, c.Name) }

// Fill types value into the field whose accessible name (its label) is
// labelOrName, or, if none has that name, into the field with that name
// attribute; what the field held is replaced. A <select> gets the option
// whose value or text is value.
func (c *Chrome) Fill(labelOrName, value string) {
	c.t.Helper()
	obj, err := c.find(fieldRoles, labelOrName, `[name="`+cssEscape(labelOrName)+`"]`)
	if err != nil {
		c.t.Fatal(err)
	}
	var tag string
	if err := c.callOn(obj, `function() { return this.tagName }`, &tag); err != nil {
		c.t.Fatal(err)
	}
	if tag == "SELECT" {
		var ok bool
		err := c.callOn(obj, `function(v) {
			const o = Array.from(this.options).find(o => o.value === v || o.text.trim() === v);
			if (!o) return false;
			this.value = o.value;
			this.dispatchEvent(new Event("input", {bubbles: true}));
			this.dispatchEvent(new Event("change", {bubbles: true}));
			return true }`, &ok, value)
		if err != nil || !ok {
			c.t.Fatalf("select %q has no option %q (%v)", labelOrName, value, err)
		}
		return
	}
	if _, err := call(c, dom.Focus, dom.FocusParams{ObjectID: obj}); err != nil {
		c.t.Fatalf("focusing %q: %v", labelOrName, err)
	}
	// Select what the field holds, so that typing replaces it.
	if err := c.callOn(obj, `function() { if (this.select) this.select() }`, nil); err != nil {
		c.t.Fatal(err)
	}
	if value == "" {
		c.do(chromedp.KeyEvent(kb.Delete))
		return
	}
	c.Type(value)
}

// Type types text into the focused element, a key event per character.
func (c *Chrome) Type(text string) {
	c.t.Helper()
	c.do(chromedp.KeyEvent(text))
}

// Click clicks, with the mouse, the first control (button, link, checkbox,
// summary…) whose accessible name is name. It fails the test if there is
// none, if it is disabled or if something covers it.
func (c *Chrome) Click(name string) {
	c.t.Helper()
	obj, err := c.find(clickableRoles, name, "")
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := call(c, dom.ScrollIntoViewIfNeeded, dom.ScrollIntoViewIfNeededParams{ObjectID: obj}); err != nil {
		c.t.Fatalf("scrolling to %q: %v", name, err)
	}
	q, err := call(c, dom.GetContentQuads, dom.GetContentQuadsParams{ObjectID: obj})
	if err != nil || len(q.Quads) == 0 || len(q.Quads[0]) != 8 {
		c.t.Fatalf("%q has no box to click (%v)", name, err)
	}
	var x, y float64
	for i := 0; i < 8; i += 2 {
		x += q.Quads[0][i] / 4
		y += q.Quads[0][i+1] / 4
	}
	var problem string
	if err := c.callOn(obj, `function(x, y) {
		if (this.disabled || this.getAttribute("aria-disabled") === "true") return "is disabled";
		const top = document.elementFromPoint(x, y);
		if (top && top !== this && !this.contains(top)) return "is covered by <" + top.tagName.toLowerCase() + ">";
		return "" }`, &problem, x, y); err != nil {
		c.t.Fatal(err)
	}
	if problem != "" {
		c.t.Fatalf("%q %s", name, problem)
	}
	c.do(chromedp.MouseClickXY(x, y))
}

// ClickAndWait clicks the control named name and waits for the page it
// leads to.
func (c *Chrome) ClickAndWait(name string) {
	c.t.Helper()
	c.Navigates(func() { c.Click(name) })
}

// Keys Press understands besides single characters.
var keyNames = map[string]string{
	"Tab": kb.Tab, "Enter": kb.Enter, "Space": " ", "Escape": kb.Escape, "Backspace": kb.Backspace,
	"Delete": kb.Delete, "ArrowUp": kb.ArrowUp, "ArrowDown": kb.ArrowDown, "ArrowLeft": kb.ArrowLeft,
	"ArrowRight": kb.ArrowRight, "Home": kb.Home, "End": kb.End,
}

// Press presses keys one after another, each a key name ("Tab", "Enter",
// "Space", "Escape", "ArrowDown"…) or a single character, as real key
// events to the focused element.
func (c *Chrome) Press(keys ...string) {
	c.t.Helper()
	for _, k := range keys {
		c.do(chromedp.KeyEvent(key(c, k)))
	}
}

func key(c *Chrome, name string) string {
	c.t.Helper()
	if k, ok := keyNames[name]; ok {
		return k
	}
	if len([]rune(name)) != 1 {
		c.t.Fatalf("unknown key %q", name)
	}
	return name
}

// PressAndWait presses a key (Enter on a button, say) and waits for the
// page it leads to.
func (c *Chrome) PressAndWait(k string) {
	c.t.Helper()
	c.Navigates(func() { c.Press(k) })
}

// Tab moves focus forward, as the Tab key does.
func (c *Chrome) Tab() { c.t.Helper(); c.do(chromedp.KeyEvent(kb.Tab)) }

// ShiftTab moves focus back, as Shift+Tab does.
func (c *Chrome) ShiftTab() {
	c.t.Helper()
	c.do(chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
}

// Enter presses Enter (submits a form from a field, activates a button or
// a link).
func (c *Chrome) Enter() { c.t.Helper(); c.Press("Enter") }

// Space presses Space (activates a button, toggles a checkbox or switch,
// opens a summary).
func (c *Chrome) Space() { c.t.Helper(); c.Press("Space") }

// Focused is the control that has focus, or a zero Control if none has
// (focus is on the page itself).
func (c *Chrome) Focused() Control {
	c.t.Helper()
	obj, err := c.object(`document.activeElement && document.activeElement !== document.body ? document.activeElement : null`)
	if err != nil {
		c.t.Fatal(err)
	}
	if obj == "" {
		return Control{}
	}
	ctl, _, err := c.axOf(obj)
	if err != nil {
		c.t.Fatal(err)
	}
	return ctl
}

// TabTo presses Tab until the control named name has focus; it fails the
// test if it never gets it (the control is not reachable by keyboard).
func (c *Chrome) TabTo(name string) {
	c.t.Helper()
	var seen []string
	for range 50 {
		c.Tab()
		f := c.Focused()
		if sameName(f.Name, name) {
			return
		}
		seen = append(seen, f.String())
	}
	c.t.Fatalf("Tab never reached %q; focus went to %s", name, strings.Join(seen, ", "))
}

// find is the first element, in page order, that has one of roles and the
// accessible name, or else the first matching the CSS selector orCSS (if
// not ""); it waits up to Timeout for one to appear.
func (c *Chrome) find(roles []string, name, orCSS string) (runtime.RemoteObjectID, error) {
	deadline := time.Now().Add(c.Timeout)
	for {
		doc, err := c.object("document")
		if err != nil {
			return "", err
		}
		res, err := call(c, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{ObjectID: doc, AccessibleName: name})
		if err == nil {
			for _, n := range res.Nodes {
				if !n.Ignored && slices.Contains(roles, axString(n.Role)) && n.BackendDOMNodeID != 0 {
					r, err := call(c, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: n.BackendDOMNodeID, ObjectGroup: objectGroup})
					if err != nil {
						return "", err
					}
					return r.Object.ObjectID, nil
				}
			}
		}
		if orCSS != "" {
			if obj, err := c.object(`document.querySelector(` + jsString(orCSS) + `)`); err == nil && obj != "" {
				return obj, nil
			}
		}
		if time.Now().After(deadline) {
			what := fmt.Sprintf("%s named %q", strings.Join(roles[:3], " or "), name)
			if orCSS != "" {
				what += " (or " + orCSS + ")"
			}
			return "", fmt.Errorf("no %s on %s; it has %s", what, c.URL(), c.controlList())
		}
		select {
		case <-c.ctx.Done():
			return "", c.ctx.Err()
		case <-time.After(50 * time.Millisecond): // a poll for the control to appear
		}
	}
}

// controlList names the page's controls, for a failure message.
func (c *Chrome) controlList() string {
	tree, err := call(c, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		return "(no accessibility tree: " + err.Error() + ")"
	}
	var names []string
	for _, n := range tree.Nodes {
		if role := axString(n.Role); !n.Ignored && (slices.Contains(fieldRoles, role) || slices.Contains(clickableRoles, role)) {
			names = append(names, Control{role, axString(n.Name)}.String())
		}
	}
	if len(names) == 0 {
		return "no controls"
	}
	return strings.Join(names, ", ")
}

// axOf is the accessibility node of an element: its role and name, and
// whether it is ignored (hidden from assistive technology).
func (c *Chrome) axOf(obj runtime.RemoteObjectID) (Control, bool, error) {
	desc, err := call(c, dom.DescribeNode, dom.DescribeNodeParams{ObjectID: obj})
	if err != nil {
		return Control{}, false, err
	}
	fetchRelatives := false
	res, err := call(c, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{ObjectID: obj, FetchRelatives: &fetchRelatives})
	if err != nil {
		return Control{}, false, err
	}
	for _, n := range res.Nodes {
		if n.BackendDOMNodeID == desc.Node.BackendNodeID {
			return Control{axString(n.Role), axString(n.Name)}, n.Ignored, nil
		}
	}
	return Control{}, true, nil
}

// axString is an accessibility value as a string ("" if absent).
func axString(v *accessibility.Value) string {
	if v == nil || len(v.Value) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal(v.Value, &s); err != nil {
		return string(v.Value)
	}
	return s
}

func sameName(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// cssEscape escapes s for a double-quoted CSS attribute value.
func cssEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
