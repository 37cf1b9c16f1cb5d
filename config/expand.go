package config

import (
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/fanout-dev/fanout/probe"
)

// varRef matches ${NAME}, and $${ (an escaped "${").
var varRef = regexp.MustCompile(`\$\$\{|\$\{([^}]*)\}?`)

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces ${NAME} in every scalar string value of the tree (never
// in keys, never in the raw text, so positions stay exact). "$${" stands
// for a literal "${". An unset or malformed reference is an error at its
// line and column. Every value a reference expanded to is a secret.
func (d *decoder) expand(root ast.Node) error {
	var err error
	ast.Walk(visitor(func(n ast.Node) bool {
		if err != nil {
			return false
		}
		if kv, ok := n.(*ast.MappingValueNode); ok {
			// Walk the value only: keys are never expanded.
			err = d.expand(kv.Value)
			return false
		}
		if s, ok := n.(*ast.StringNode); ok && strings.Contains(s.Value, "$") {
			before := s.Value
			s.Value, err = d.expandString(s.Value, s.GetToken())
			if s.Value != before && s.GetToken().Type == token.StringType {
				d.markFromEnv(s)
			}
		}
		if l, ok := n.(*ast.LiteralNode); ok && l.Value != nil && strings.Contains(l.Value.Value, "$") {
			l.Value.Value, err = d.expandString(l.Value.Value, d.blockStart(l))
		}
		return true
	}), root)
	return err
}

func (d *decoder) markFromEnv(s *ast.StringNode) {
	if d.fromEnv == nil {
		d.fromEnv = map[*ast.StringNode]bool{}
	}
	d.fromEnv[s] = true
}

type visitor func(ast.Node) bool

func (v visitor) Visit(n ast.Node) ast.Visitor {
	if v(n) {
		return v
	}
	return nil
}

func (d *decoder) expandString(s string, tok *token.Token) (string, error) {
	var b strings.Builder
	last := 0
	for _, m := range varRef.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		last = m[1]
		ref := s[m[0]:m[1]]
		if ref == "$${" {
			b.WriteString("${")
			continue
		}
		name := s[m[2]:m[3]]
		at := columnAt(tok, m[0])
		switch {
		case !strings.HasSuffix(ref, "}"):
			return "", d.errorAt(at, "", "unterminated ${ (write $${ for a literal ${)")
		case !varName.MatchString(name):
			return "", d.errorAt(at, "", "invalid variable name in "+ref)
		}
		val, ok := d.lookupEnv(name)
		if !ok {
			return "", d.errorAt(at, "", "environment variable "+name+" is not set")
		}
		b.WriteString(val)
		if val != "" {
			if d.expanded == nil {
				d.expanded = map[string]int{}
			}
			d.expanded[val]++
		}
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// columnAt returns a token positioned offset bytes into the scalar tok
// holds (past its opening quote, if any), for errors inside a value. In a
// block scalar (see blockStart) it counts lines too.
func columnAt(tok *token.Token, offset int) *token.Token {
	if tok == nil || tok.Position == nil {
		return tok
	}
	pos := *tok.Position
	if tok.Type == token.DoubleQuoteType || tok.Type == token.SingleQuoteType {
		pos.Column++
	}
	if tok.Type == blockType {
		before := tok.Value[:min(offset, len(tok.Value))]
		if nl := strings.LastIndexByte(before, '\n'); nl >= 0 {
			pos.Line += strings.Count(before, "\n")
			pos.Column = pos.IndentNum + 1
			offset -= nl + 1
		}
	}
	pos.Column += offset
	return &token.Token{Position: &pos}
}

// blockType marks a token made by blockStart.
const blockType = token.LiteralType

// blockStart returns a token at the first character of a block scalar's
// (| or >) content, holding the content, so that columnAt can find an
// offset's line and column. The content's indentation is read from the
// source: the parser keeps no position for it.
func (d *decoder) blockStart(l *ast.LiteralNode) *token.Token {
	start := l.Start
	if start == nil || start.Position == nil {
		return l.GetToken()
	}
	pos := *start.Position
	pos.Line++
	indent := 0
	if pos.Line-1 < len(d.lines) {
		line := d.lines[pos.Line-1]
		indent = len(line) - len(strings.TrimLeft(line, " "))
	}
	pos.IndentNum, pos.Column = indent, indent+1
	return &token.Token{Type: blockType, Value: l.Value.Value, Position: &pos}
}

// suggest returns the known name closest to name, if it is close enough to
// be a typo: at most 2 edits, or 1 for short names.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	if len(name) <= 4 {
		bestDist = 2
	}
	for _, k := range slices.Sorted(slices.Values(known)) {
		if d := probe.EditDistance(strings.ToLower(name), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}
