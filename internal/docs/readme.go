package docs

import (
	"regexp"
	"strings"
)

// A Block is one ```sh block of a Markdown file: its commands, each a
// logical line (backslash continuations joined, leading indentation gone).
type Block struct {
	Line     int // line of the opening fence, 1-based
	Commands []string
}

var fence = regexp.MustCompile("^\\s*```(\\w*)\\s*$")

// ShellBlocks returns the file's sh blocks in order.
func ShellBlocks(markdown string) []Block {
	var (
		out  []Block
		cur  *Block
		cont string
	)
	for i, line := range strings.Split(markdown, "\n") {
		if m := fence.FindStringSubmatch(line); m != nil {
			switch {
			case cur == nil && m[1] != "":
				if m[1] == "sh" {
					cur = &Block{Line: i + 1}
				} else {
					cur = &Block{Line: -1} // another language: skipped
				}
			case cur != nil:
				if cur.Line > 0 {
					out = append(out, *cur)
				}
				cur, cont = nil, ""
			default:
				cur = &Block{Line: -1} // a fence without a language
			}
			continue
		}
		if cur == nil || cur.Line < 0 {
			continue
		}
		l := strings.TrimSpace(line)
		if strings.HasSuffix(l, "\\") {
			cont += strings.TrimSuffix(l, "\\")
			continue
		}
		if l = cont + l; l != "" {
			cur.Commands = append(cur.Commands, l)
		}
		cont = ""
	}
	return out
}
