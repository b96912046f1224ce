package e2e

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// An Element is one element of a page, as the HTML parser read it:
// attributes unescaped, text as a reader sees it.
type Element struct{ n *html.Node }

// document is the page parsed as a browser parses it (once).
func (p *Page) document() *html.Node {
	p.once.Do(func() {
		doc, err := html.Parse(strings.NewReader(p.Body))
		if err != nil { // html.Parse recovers from any markup; only a read can fail
			doc = &html.Node{Type: html.DocumentNode}
		}
		p.doc = doc
	})
	return p.doc
}

// Text is the page's text as a reader sees it: no markup, scripts or
// styles, runs of white space as one space.
func (p *Page) Text() string { return Element{p.document()}.Text() }

// ByID is the element with id, if there is one.
func (p *Page) ByID(id string) (Element, bool) {
	var found *html.Node
	walk(p.document(), func(n *html.Node) bool {
		if n.Type == html.ElementNode && attr(n, "id") == id {
			found = n
		}
		return found == nil
	})
	return Element{found}, found != nil
}

// All is every element with the tag name (e.g. "img"), in page order.
func (p *Page) All(tag string) []Element { return Element{p.document()}.All(tag) }

// Link is the target of the first link (<a href>) whose text is text,
// resolved against the page's URL.
func (p *Page) Link(text string) (*url.URL, bool) {
	for _, a := range p.All("a") {
		if a.Text() == text {
			if u, err := p.URL.Parse(a.Attr("href")); err == nil {
				return u, true
			}
		}
	}
	return nil, false
}

// Text is the element's text: no markup, runs of white space as one space.
func (e Element) Text() string {
	if e.n == nil {
		return ""
	}
	var b strings.Builder
	walk(e.n, func(n *html.Node) bool {
		switch {
		case n.Type == html.ElementNode && (n.DataAtom == atom.Script || n.DataAtom == atom.Style):
			return false
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		return true
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// Attr is the value of the element's attribute name, or "".
func (e Element) Attr(name string) string {
	if e.n == nil {
		return ""
	}
	return attr(e.n, name)
}

// All is every element inside e with the tag name, in page order.
func (e Element) All(tag string) []Element {
	var out []Element
	if e.n == nil {
		return nil
	}
	walk(e.n, func(n *html.Node) bool {
		if n != e.n && n.Type == html.ElementNode && n.Data == tag {
			out = append(out, Element{n})
		}
		return true
	})
	return out
}

// walk visits n and its descendants in document order; visit returns false
// to skip a node's children.
func walk(n *html.Node, visit func(*html.Node) bool) {
	if !visit(n) {
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, visit)
	}
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == name {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == name {
			return true
		}
	}
	return false
}
