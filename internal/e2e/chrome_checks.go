package e2e

import (
	"bytes"
	_ "embed"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
)

// The checks every page must pass, for people who use a screen reader,
// only a keyboard, or a dim screen. Each has a form that returns what is
// wrong (…Problems, for a test of the check itself) and one that fails the
// test with it (Check…). CheckAccessibility runs them all, in light and in
// dark theme.

// MinContrast is the least contrast ratio text must have against its
// background (WCAG 2 success criterion 1.4.3, level AA, normal text; the
// harness asks it of large text too).
const MinContrast = 4.5

// MinFocusContrast is the least contrast between a pixel with and without
// focus for it to count towards a visible focus indicator (WCAG 2.4.13).
const MinFocusContrast = 3.0

//go:embed chrome_controls.js
var controlsJS string

//go:embed chrome_contrast.js
var contrastJS string

// CheckAccessibility runs CheckAccessibleNames once, and CheckKeyboard and
// CheckContrast in light and in dark theme; the page is left in the theme
// it had.
func (c *Chrome) CheckAccessibility() {
	c.t.Helper()
	c.CheckAccessibleNames()
	before := c.ColorScheme()
	defer c.SetColorScheme(before)
	for _, scheme := range []string{"light", "dark"} {
		c.SetColorScheme(scheme)
		for _, p := range c.KeyboardProblems() {
			c.t.Errorf("%s, %s theme: keyboard: %s", c.URL(), scheme, p)
		}
		for _, p := range c.ContrastProblems() {
			c.t.Errorf("%s, %s theme: contrast: %s", c.URL(), scheme, p)
		}
	}
}

// CheckAccessibleNames fails the test for each AccessibleNameProblems.
func (c *Chrome) CheckAccessibleNames() {
	c.t.Helper()
	for _, p := range c.AccessibleNameProblems() {
		c.t.Errorf("%s: accessible name: %s", c.URL(), p)
	}
}

// AccessibleNameProblems lists the controls without an accessible name,
// as Chromium's accessibility tree computes it: every node of the full
// tree with an interactive role (button, link, text field, checkbox,
// switch…), and every rendered interactive element of the page (input,
// select, textarea, button, a[href], summary, [tabindex], [role=switch]…),
// which must also not be hidden from assistive technology.
func (c *Chrome) AccessibleNameProblems() []string {
	c.t.Helper()
	defer c.release()
	tree, err := call(c, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		c.t.Fatalf("reading the accessibility tree: %v", err)
	}
	var problems []string
	named := map[int64]bool{}
	for _, n := range tree.Nodes {
		role := axString(n.Role)
		if n.Ignored || !(slices.Contains(fieldRoles, role) || slices.Contains(clickableRoles, role) ||
			slices.Contains([]string{"slider", "Iframe", "textbox", "searchbox"}, role)) {
			continue
		}
		if axString(n.Name) != "" {
			named[int64(n.BackendDOMNodeID)] = true
			continue
		}
		desc := "(no element)"
		if n.BackendDOMNodeID != 0 {
			desc = c.describeBackend(n.BackendDOMNodeID)
		}
		problems = append(problems, fmt.Sprintf("%s %s has no accessible name", role, desc))
		named[int64(n.BackendDOMNodeID)] = true // reported once
	}
	controls, objs := c.controls()
	for i, obj := range objs {
		desc, err := call(c, dom.DescribeNode, dom.DescribeNodeParams{ObjectID: obj})
		if err != nil {
			c.t.Fatal(err)
		}
		if named[int64(desc.Node.BackendNodeID)] {
			continue
		}
		ctl, ignored, err := c.axOf(obj)
		switch {
		case err != nil:
			c.t.Fatal(err)
		case ignored:
			problems = append(problems, fmt.Sprintf("%s is shown but hidden from assistive technology", controls[i].Desc))
		case ctl.Name == "":
			problems = append(problems, fmt.Sprintf("%s (role %s) has no accessible name", controls[i].Desc, ctl.Role))
		}
	}
	return problems
}

func (c *Chrome) describeBackend(id cdp.BackendNodeID) string {
	r, err := call(c, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: id, ObjectGroup: objectGroup})
	if err != nil || r.Object == nil {
		return "(unresolvable element)"
	}
	var d string
	if err := c.callOn(r.Object.ObjectID, `function() { return this.outerHTML.slice(0, 120) }`, &d); err != nil {
		return "(element)"
	}
	return d
}

// controlInfo is what chrome_controls.js says of each control.
type controlInfo struct {
	Desc     string `json:"desc"`
	Tabbable bool   `json:"tabbable"`
	Group    string `json:"group"`
}

// controls are the page's rendered interactive elements, in page order.
func (c *Chrome) controls() ([]controlInfo, []runtime.RemoteObjectID) {
	c.t.Helper()
	var info []controlInfo
	c.Eval(controlsJS, &info)
	objs, err := c.elements("window.__stepgateControls")
	if err != nil || len(objs) != len(info) {
		c.t.Fatalf("reading the controls: %v (%d elements, %d described)", err, len(objs), len(info))
	}
	return info, objs
}

// elements evaluates expr to an array of elements and returns their ids.
func (c *Chrome) elements(expr string) ([]runtime.RemoteObjectID, error) {
	arr, err := c.object(expr)
	if err != nil || arr == "" {
		return nil, err
	}
	own := true
	props, err := call(c, runtime.GetProperties, runtime.GetPropertiesParams{ObjectID: arr, OwnProperties: &own})
	if err != nil {
		return nil, err
	}
	var out []runtime.RemoteObjectID
	for _, p := range props.Result {
		if _, err := strconv.Atoi(p.Name); err == nil && p.Value != nil {
			out = append(out, p.Value.ObjectID)
		}
	}
	return out, nil
}

// release frees the objects the harness asked the page for.
func (c *Chrome) release() {
	call(c, runtime.ReleaseObjectGroup, runtime.ReleaseObjectGroupParams{ObjectGroup: objectGroup})
}

// CheckKeyboard fails the test for each KeyboardProblems.
func (c *Chrome) CheckKeyboard() {
	c.t.Helper()
	for _, p := range c.KeyboardProblems() {
		c.t.Errorf("%s: keyboard: %s", c.URL(), p)
	}
}

// KeyboardProblems walks the page with real Tab key presses from its start
// to its end, and back with Shift+Tab, and lists what a keyboard user could
// not do: a control Tab never reaches (one radio of a group, one item of a
// composite widget is enough), Shift+Tab not retracing the Tab order, or a
// control whose focus is not visible. Focus counts as visible when the
// pixels of the control and 8 px around it, with focus and with no control
// focused, differ by a contrast of at least 3:1 over an area at least the
// control's perimeter (a 1 px ring); the text caret is hidden meanwhile.
//
// The walk starts and ends at two invisible focusable sentinels it adds to
// the page (inside an open modal dialog, if there is one) and removes
// afterwards: headless Chromium moves focus from the last control back to
// the first asynchronously, so the walk never lets focus leave the page.
// A control with tabindex > 0 (which comes before the page's start in Tab
// order) is reported as unreachable. Focus goes back where it was.
func (c *Chrome) KeyboardProblems() []string {
	c.t.Helper()
	defer c.release()
	before, err := c.object(`document.activeElement`)
	if err != nil {
		c.t.Fatal(err)
	}
	info, objs := c.controls()
	c.Eval(`(() => {
		const root = document.querySelector("dialog:modal") || document.body;
		const make = name => {
			const s = document.createElement("span");
			s.tabIndex = 0;
			s.__stepgateSentinel = name;
			Object.assign(s.style, {position: "fixed", left: "0", top: "0", width: "1px", height: "1px", opacity: "0"});
			return s;
		};
		window.__stepgateSentinels = [make("start"), make("end")];
		root.prepend(window.__stepgateSentinels[0]);
		root.append(window.__stepgateSentinels[1]);
		window.__stepgateSentinels[0].focus();
	})()`, nil)
	defer c.callOn(before, `function() {
		for (const s of window.__stepgateSentinels || []) s.remove();
		if (this === document.body) document.activeElement.blur(); else this.focus() }`, nil)

	unfocused, err := c.shotViewport()
	if err != nil {
		c.t.Fatal(err)
	}
	var problems []string
	var order []int // control indexes in Tab order
	seen := map[int]bool{}
	for range 2*len(info) + 4 {
		c.Tab()
		i := c.focusedControl()
		if i == focusEnd {
			break
		}
		if i < 0 || seen[i] {
			continue // something focusable that is not a control (a scroll box)
		}
		seen[i] = true
		order = append(order, i)
		if p := c.focusIndicatorProblem(objs[i], unfocused); p != "" {
			problems = append(problems, info[i].Desc+": "+p)
		}
	}
	groups := map[string]bool{}
	for _, i := range order {
		if g := info[i].Group; g != "" {
			groups[g] = true
		}
	}
	for i, ctl := range info {
		if ctl.Tabbable && !seen[i] && (ctl.Group == "" || !groups[ctl.Group]) {
			problems = append(problems, ctl.Desc+" is not reachable with Tab")
		}
	}
	if c.focusedControl() != focusEnd {
		return append(problems, "Tab did not reach the end of the page")
	}
	// Back with Shift+Tab: the same stops in reverse.
	var back []int
	for range 2*len(info) + 4 {
		c.ShiftTab()
		i := c.focusedControl()
		if i == focusStart {
			break
		}
		if i >= 0 && !slices.Contains(back, i) {
			back = append(back, i)
		}
	}
	slices.Reverse(back)
	if !slices.Equal(back, order) {
		problems = append(problems, fmt.Sprintf("Shift+Tab went %s; Tab went %s", c.describeOrder(info, back, true), c.describeOrder(info, order, false)))
	}
	return problems
}

// describeOrder lists controls by description, last first if reversed.
func (c *Chrome) describeOrder(info []controlInfo, order []int, reversed bool) string {
	var d []string
	for _, i := range order {
		d = append(d, info[i].Desc)
	}
	if reversed {
		slices.Reverse(d)
	}
	return strings.Join(d, ", ")
}

// What focusedControl says when focus is not on a control.
const (
	focusNone  = -1 // the page itself, or an element that is not a control
	focusStart = -2 // KeyboardProblems' sentinels
	focusEnd   = -3
)

// focusedControl is the index of the focused control (see
// chrome_controls.js), or one of the focus… constants.
func (c *Chrome) focusedControl() int {
	c.t.Helper()
	var i int
	c.Eval(`(() => {
		const a = document.activeElement;
		if (!a) return -1;
		if (a.__stepgateSentinel) return a.__stepgateSentinel === "start" ? -2 : -3;
		return a.__stepgateControl !== undefined ? a.__stepgateControl : -1 })()`, &i)
	return i
}

// A viewport is a screenshot of what the viewport shows, and where it was
// scrolled to: the page without focus on any control, for
// focusIndicatorProblem to compare with.
type viewportShot struct {
	img        image.Image
	x, y, w, h int // in CSS pixels of the document (device scale factor 1)
}

func (c *Chrome) shotViewport() (*viewportShot, error) {
	var v struct{ X, Y, W, H int }
	if err := c.eval(`({X: Math.round(scrollX), Y: Math.round(scrollY), W: innerWidth, H: innerHeight})`, &v); err != nil {
		return nil, err
	}
	b, err := c.clipShot(float64(v.X), float64(v.Y), float64(v.W), float64(v.H))
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return &viewportShot{img, v.X, v.Y, v.W, v.H}, nil
}

// focusIndicatorProblem compares the focused control obj, and 8 px around
// it, with the same region of unfocused, a shot of the page with no control
// focused; if the page has scrolled since, with the control blurred (the
// next Tab still continues from a blurred element: it stays the sequential
// focus navigation starting point).
func (c *Chrome) focusIndicatorProblem(obj runtime.RemoteObjectID, unfocused *viewportShot) string {
	c.t.Helper()
	var r struct{ X, Y, W, H, Perimeter int }
	if err := c.callOn(obj, `function() {
		this.__stepgateCaret = this.style.caretColor;
		this.style.caretColor = "transparent";
		const r = this.getBoundingClientRect();
		const x = Math.max(Math.floor(r.left + scrollX - 8), 0), y = Math.max(Math.floor(r.top + scrollY - 8), 0);
		return {X: x, Y: y, W: Math.ceil(r.right + scrollX + 8) - x, H: Math.ceil(r.bottom + scrollY + 8) - y,
			Perimeter: Math.round(2 * (r.width + r.height))} }`, &r); err != nil {
		c.t.Fatal(err)
	}
	defer c.callOn(obj, `function() { this.style.caretColor = this.__stepgateCaret }`, nil)
	focused, err := c.clipShot(float64(r.X), float64(r.Y), float64(r.W), float64(r.H))
	if err != nil {
		c.t.Fatal(err)
	}
	fimg, err := png.Decode(bytes.NewReader(focused))
	if err != nil {
		c.t.Fatal(err)
	}
	var bimg image.Image
	if u := unfocused; u != nil && r.X >= u.x && r.Y >= u.y && r.X+r.W <= u.x+u.w && r.Y+r.H <= u.y+u.h && c.scrolledTo(u.x, u.y) {
		bimg = crop{u.img, image.Pt(r.X-u.x, r.Y-u.y), fimg.Bounds()}
	} else {
		if err := c.callOn(obj, `function() { this.blur() }`, nil); err != nil {
			c.t.Fatal(err)
		}
		blurred, err := c.clipShot(float64(r.X), float64(r.Y), float64(r.W), float64(r.H))
		if err == nil {
			bimg, err = png.Decode(bytes.NewReader(blurred))
		}
		if err != nil {
			c.t.Fatal(err)
		}
	}
	if changed := changedPixels(fimg, bimg); changed < r.Perimeter {
		return fmt.Sprintf("no visible focus indicator (%d px change by %.0f:1 or more, need %d)", changed, MinFocusContrast, r.Perimeter)
	}
	return ""
}

// scrolledTo reports whether the page is scrolled to x, y.
func (c *Chrome) scrolledTo(x, y int) bool {
	var ok bool
	c.Eval(fmt.Sprintf(`Math.round(scrollX) === %d && Math.round(scrollY) === %d`, x, y), &ok)
	return ok
}

// crop is the region of img at offset of the size of bounds, moved to
// bounds.
type crop struct {
	img    image.Image
	offset image.Point
	bounds image.Rectangle
}

func (c crop) ColorModel() color.Model { return c.img.ColorModel() }
func (c crop) Bounds() image.Rectangle { return c.bounds }
func (c crop) At(x, y int) color.Color {
	return c.img.At(c.img.Bounds().Min.X+c.offset.X+x-c.bounds.Min.X, c.img.Bounds().Min.Y+c.offset.Y+y-c.bounds.Min.Y)
}

// changedPixels counts the pixels of two same-sized images whose colors
// have a contrast of at least MinFocusContrast.
func changedPixels(a, b image.Image) int {
	n := 0
	ab, bb := a.Bounds(), b.Bounds()
	for y := 0; y < min(ab.Dy(), bb.Dy()); y++ {
		for x := 0; x < min(ab.Dx(), bb.Dx()); x++ {
			if ContrastRatio(luminance(a, ab.Min.X+x, ab.Min.Y+y), luminance(b, bb.Min.X+x, bb.Min.Y+y)) >= MinFocusContrast {
				n++
			}
		}
	}
	return n
}

func luminance(img image.Image, x, y int) float64 {
	r, g, b, _ := img.At(x, y).RGBA()
	return RelativeLuminance(uint8(r>>8), uint8(g>>8), uint8(b>>8))
}

// RelativeLuminance is WCAG 2's relative luminance of an sRGB color.
func RelativeLuminance(r, g, b uint8) float64 {
	lin := func(v uint8) float64 {
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// ContrastRatio is WCAG 2's contrast ratio of two relative luminances,
// from 1 to 21.
func ContrastRatio(l1, l2 float64) float64 {
	if l1 < l2 {
		l1, l2 = l2, l1
	}
	return (l1 + 0.05) / (l2 + 0.05)
}

// CheckContrast fails the test for each ContrastProblems.
func (c *Chrome) CheckContrast() {
	c.t.Helper()
	for _, p := range c.ContrastProblems() {
		c.t.Errorf("%s, %s theme: contrast: %s", c.URL(), c.ColorScheme(), p)
	}
}

// contrast is what chrome_contrast.js measures of one piece of text.
type contrast struct {
	Text, Where, Fg, Bg, Problem string
	Ratio                        float64
}

// ContrastProblems lists the visible text of the page (text nodes, and the
// values and placeholders of fields) whose contrast ratio against its
// effective background, the colors of what is drawn under it composited
// with their opacity, is below MinContrast, in the current theme. Text over
// a background image or gradient is listed too: its contrast cannot be
// computed.
func (c *Chrome) ContrastProblems() []string {
	c.t.Helper()
	var all []contrast
	c.Eval(contrastJS, &all)
	if len(all) == 0 {
		return []string{"no visible text found"}
	}
	var problems []string
	for _, m := range all {
		switch {
		case m.Problem != "":
			problems = append(problems, fmt.Sprintf("%q in %s: %s", m.Text, m.Where, m.Problem))
		case m.Ratio < MinContrast:
			problems = append(problems, fmt.Sprintf("%q in %s: %s on %s is %.2f:1, below %.1f:1", m.Text, m.Where, m.Fg, m.Bg, m.Ratio, MinContrast))
		}
	}
	return problems
}
