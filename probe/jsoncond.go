package probe

// JSON conditions: the `json:` list of an HTTP check. The grammar, in
// EBNF (whitespace may separate tokens, but not "." from the key after it):
//
//	condition  = path "exists"
//	           | path "matches" string
//	           | path compare literal
//	           | "len" "(" path ")" compare number .
//	path       = "$" { "." key | "[" index "]" | "[" string "]" } .
//	key        = keychar { keychar } .  (* a letter, digit, "_" or "-" *)
//	index      = digit { digit } .
//	compare    = "==" | "!=" | "<" | "<=" | ">" | ">=" .
//	literal    = string | number | "true" | "false" | "null" .
//	string     = a JSON string: double quotes, JSON escapes ("\"", "\\", "\n", "\u00e9") .
//	number     = a JSON number: [ "-" ] int [ frac ] [ exp ] .
//
// "<", "<=", ">" and ">=" take a number or a string literal; "matches"
// takes a regular expression (RE2 syntax) written as a JSON string, so a
// backslash is doubled: `$.version matches "^v\\d+"`.
//
// The conditions are parsed by hand, a tokenizer and a recursive-descent
// parser, rather than with a JSONPath library: those bring a large grammar
// (filters, wildcards, slices, functions) that a health check does not
// need and users would have to learn the corners of, none of them says at
// which column a condition went wrong, and the operators and typed
// literals would still be ours to parse. This grammar fits on a screen.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// JSONCondition is one parsed JSON condition, ready to evaluate against
// decoded JSON documents. It is immutable and safe for concurrent use.
type JSONCondition struct {
	src    string
	path   jsonPath
	length bool   // len(path)
	op     string // a compare operator, "exists" or "matches"
	lit    jsonLiteral
	re     *regexp.Regexp
}

// jsonPath is a path from the document's root: each step a key or an
// index.
type jsonPath []pathStep

type pathStep struct {
	key     string
	index   int
	isIndex bool
}

// litKind is the type of a literal, and of a JSON value.
type litKind int

const (
	kindNull litKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k litKind) String() string {
	return [...]string{"null", "bool", "number", "string", "array", "object"}[k]
}

// jsonLiteral is a typed literal. num keeps a number's JSON text.
type jsonLiteral struct {
	kind litKind
	str  string
	num  string
	b    bool
}

// ConditionSyntaxError is a JSON condition that does not parse. Offset is
// the 1-based byte position in the condition where parsing failed, Col the
// 1-based position in characters, as messages show it.
type ConditionSyntaxError struct {
	Offset int
	Col    int
	Msg    string
}

func (e *ConditionSyntaxError) Error() string {
	return fmt.Sprintf("col %d: %s", e.Col, e.Msg)
}

// ParseJSONCondition parses one condition (see the grammar at the top of
// jsoncond.go). A syntax error is a *ConditionSyntaxError.
func ParseJSONCondition(src string) (*JSONCondition, error) {
	p := &condParser{lx: lexer{src: src}}
	c, err := p.condition()
	if err != nil {
		return nil, err
	}
	c.src = src
	return c, nil
}

// String returns the condition as it was written.
func (c *JSONCondition) String() string { return c.src }

// Canonical returns the condition in canonical form: single spaces around
// operators, keys in dot form where they can be, strings re-quoted.
// Parsing it gives an equal condition.
func (c *JSONCondition) Canonical() string {
	var b strings.Builder
	if c.length {
		b.WriteString("len(" + c.path.String() + ")")
	} else {
		b.WriteString(c.path.String())
	}
	b.WriteString(" " + c.op)
	switch c.op {
	case "exists":
	case "matches":
		b.WriteString(" " + quoteJSON(c.re.String()))
	default:
		b.WriteString(" " + c.lit.String())
	}
	return b.String()
}

// String shows the path in canonical form: $.a[0]["key with space"].
func (p jsonPath) String() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, s := range p {
		switch {
		case s.isIndex:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case isPlainKey(s.key):
			b.WriteString("." + s.key)
		default:
			b.WriteString("[" + quoteJSON(s.key) + "]")
		}
	}
	return b.String()
}

func (l jsonLiteral) String() string {
	switch l.kind {
	case kindString:
		return quoteJSON(l.str)
	case kindNumber:
		return l.num
	case kindBool:
		return strconv.FormatBool(l.b)
	}
	return "null"
}

// isKeyChar reports whether r may appear in a key written after a dot.
func isKeyChar(r rune) bool {
	return r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isPlainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !isKeyChar(r) {
			return false
		}
	}
	return true
}

// quoteJSON writes s as a JSON string literal that the lexer reads back as
// s: only '"', '\\' and control characters are escaped.
func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == utf8.RuneError || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tokKind is the kind of a token.
type tokKind int

const (
	tokEOF    tokKind = iota
	tokDollar         // $
	tokDot            // .
	tokLBrack         // [
	tokRBrack         // ]
	tokLParen         // (
	tokRParen         // )
	tokOp             // == != < <= > >=
	tokString         // "…"
	tokNumber         // -1.5e3
	tokWord           // exists, matches, len, true, false, null, …
)

// token is one token: its kind, its text as written, its start (a byte
// offset) and, for a string, its decoded value.
type token struct {
	kind  tokKind
	text  string
	pos   int
	value string
}

// lexer splits a condition into tokens on demand; the parser drives it, so
// that the key after a "." is read as a key ("2xx", "x-y") not as tokens.
type lexer struct {
	src string
	pos int
}

func (lx *lexer) errAt(pos int, format string, args ...any) *ConditionSyntaxError {
	return &ConditionSyntaxError{
		Offset: pos + 1,
		Col:    utf8.RuneCountInString(lx.src[:pos]) + 1,
		Msg:    fmt.Sprintf(format, args...),
	}
}

func (lx *lexer) skipSpace() {
	for lx.pos < len(lx.src) && (lx.src[lx.pos] == ' ' || lx.src[lx.pos] == '\t') {
		lx.pos++
	}
}

// next reads the next token after any blanks.
func (lx *lexer) next() (token, error) {
	lx.skipSpace()
	start := lx.pos
	if start == len(lx.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := lx.src[start]
	if k := punctuation(c); k != tokEOF {
		lx.pos++
		return token{kind: k, text: string(c), pos: start}, nil
	}
	switch {
	case c == '=' || c == '!' || c == '<' || c == '>':
		return lx.operator()
	case c == '"':
		return lx.str()
	case c == '-' || c >= '0' && c <= '9':
		return lx.number()
	}
	r, size := utf8.DecodeRuneInString(lx.src[start:])
	if !unicode.IsLetter(r) && r != '_' {
		return token{}, lx.errAt(start, "unexpected %s", quoteFor(lx.src[start:start+size]))
	}
	for lx.pos < len(lx.src) {
		r, size := utf8.DecodeRuneInString(lx.src[lx.pos:])
		if !isKeyChar(r) {
			break
		}
		lx.pos += size
	}
	return token{kind: tokWord, text: lx.src[start:lx.pos], pos: start}, nil
}

// punctuation returns the kind of a one-character token, tokEOF if c is
// none.
func punctuation(c byte) tokKind {
	switch c {
	case '$':
		return tokDollar
	case '.':
		return tokDot
	case '[':
		return tokLBrack
	case ']':
		return tokRBrack
	case '(':
		return tokLParen
	case ')':
		return tokRParen
	}
	return tokEOF
}

// simpleEscape returns the character of a JSON escape other than \u.
func simpleEscape(e byte) (rune, bool) {
	switch e {
	case '"', '\\', '/':
		return rune(e), true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

func (lx *lexer) operator() (token, error) {
	start := lx.pos
	two := ""
	if start+2 <= len(lx.src) {
		two = lx.src[start : start+2]
	}
	switch two {
	case "==", "!=", "<=", ">=":
		lx.pos += 2
		return token{kind: tokOp, text: two, pos: start}, nil
	}
	switch c := lx.src[start]; c {
	case '<', '>':
		lx.pos++
		return token{kind: tokOp, text: string(c), pos: start}, nil
	case '=':
		return token{}, lx.errAt(start, `unexpected "=" (write "==" to compare)`)
	}
	return token{}, lx.errAt(start, `unexpected "!" (write "!=" to compare)`)
}

// str reads a JSON string literal.
func (lx *lexer) str() (token, error) {
	start := lx.pos
	var b strings.Builder
	i := start + 1
	for {
		if i >= len(lx.src) {
			return token{}, lx.errAt(start, "unterminated string")
		}
		c := lx.src[i]
		switch {
		case c == '"':
			lx.pos = i + 1
			return token{kind: tokString, text: lx.src[start:lx.pos], pos: start, value: b.String()}, nil
		case c < 0x20:
			return token{}, lx.errAt(i, "control character %q in string (escape it)", c)
		case c != '\\':
			r, size := utf8.DecodeRuneInString(lx.src[i:])
			if r == utf8.RuneError && size == 1 {
				return token{}, lx.errAt(i, "invalid UTF-8 in string")
			}
			b.WriteString(lx.src[i : i+size])
			i += size
			continue
		}
		// An escape.
		if i+1 >= len(lx.src) {
			return token{}, lx.errAt(start, "unterminated string")
		}
		e := lx.src[i+1]
		if r, ok := simpleEscape(e); ok {
			b.WriteRune(r)
			i += 2
			continue
		}
		if e != 'u' {
			return token{}, lx.errAt(i, `invalid escape %s in string (a backslash is written \\)`, quoteFor(lx.src[i:i+2]))
		}
		r, n, err := lx.unicodeEscape(i)
		if err != nil {
			return token{}, err
		}
		b.WriteRune(r)
		i += n
	}
}

// unicodeEscape reads \uXXXX at i, and the low half of a surrogate pair
// after it.
func (lx *lexer) unicodeEscape(i int) (rune, int, error) {
	hex := func(at int) (rune, bool) {
		if at+6 > len(lx.src) || lx.src[at] != '\\' || lx.src[at+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(lx.src[at+2:at+6], 16, 32)
		return rune(v), err == nil
	}
	r, ok := hex(i)
	if !ok {
		return 0, 0, lx.errAt(i, `invalid escape: \u needs four hex digits`)
	}
	if r < 0xd800 || r > 0xdfff {
		return r, 6, nil
	}
	if lo, ok := hex(i + 6); ok && r < 0xdc00 && lo >= 0xdc00 && lo <= 0xdfff {
		return (r-0xd800)<<10 | (lo - 0xdc00) + 0x10000, 12, nil
	}
	return 0, 0, lx.errAt(i, "invalid escape: unpaired surrogate %s", quoteFor(lx.src[i:i+6]))
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (lx *lexer) number() (token, error) {
	start := lx.pos
	s := lx.src
	i := start
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	bad := func() (token, error) {
		end := i
		for end < len(s) && (isKeyChar(rune(s[end])) || s[end] == '.' || s[end] == '+') {
			end++
		}
		return token{}, lx.errAt(start, "invalid number %s", quoteFor(s[start:max(end, i)]))
	}
	if s[i] == '-' {
		i++
	}
	first := i
	if digits() == 0 {
		return bad()
	}
	if s[first] == '0' && i-first > 1 {
		return bad()
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return bad()
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return bad()
		}
	}
	if i < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[i:]); isKeyChar(r) || r == '.' {
			return bad()
		}
	}
	lx.pos = i
	return token{kind: tokNumber, text: s[start:i], pos: start}, nil
}

// key reads the key right after a ".", with no blank between.
func (lx *lexer) key() (string, error) {
	start := lx.pos
	for lx.pos < len(lx.src) {
		r, size := utf8.DecodeRuneInString(lx.src[lx.pos:])
		if !isKeyChar(r) {
			break
		}
		lx.pos += size
	}
	if lx.pos == start {
		got := "end of condition"
		if start < len(lx.src) {
			r, size := utf8.DecodeRuneInString(lx.src[start:])
			got = quoteFor(lx.src[start : start+size])
			if r == ' ' || r == '\t' {
				got = "a blank"
			}
		}
		return "", lx.errAt(start, `expected a key after ".", got %s (write ["key"] for a key with other characters)`, got)
	}
	return lx.src[start:lx.pos], nil
}

// quoteFor shows source text in a message, shortened.
func quoteFor(s string) string {
	return strconv.Quote(clip(s, 40))
}

// describe shows a token in a message: "end of condition" or its text.
func (t token) describe() string {
	if t.kind == tokEOF {
		return "end of condition"
	}
	return quoteFor(t.text)
}

// condParser is a recursive-descent parser over the lexer, one token of
// lookahead.
type condParser struct {
	lx   lexer
	tok  token
	read bool
}

// peek returns the next token without consuming it.
func (p *condParser) peek() (token, error) {
	if !p.read {
		t, err := p.lx.next()
		if err != nil {
			return token{}, err
		}
		p.tok, p.read = t, true
	}
	return p.tok, nil
}

// skip consumes the token peek returned.
func (p *condParser) skip() { p.read = false }

// take consumes the next token.
func (p *condParser) take() (token, error) {
	t, err := p.peek()
	p.read = false
	return t, err
}

func (p *condParser) condition() (*JSONCondition, error) {
	t, err := p.take()
	if err != nil {
		return nil, err
	}
	c := &JSONCondition{}
	switch {
	case t.kind == tokWord && t.text == "len":
		if err := p.expect(tokLParen, `"(" after len`); err != nil {
			return nil, err
		}
		start, err := p.take()
		if err != nil {
			return nil, err
		}
		if start.kind != tokDollar {
			return nil, p.lx.errAt(start.pos, `expected a path like $.items inside len(), got %s`, start.describe())
		}
		if c.path, err = p.path(); err != nil {
			return nil, err
		}
		if err := p.expect(tokRParen, `")" after the path`); err != nil {
			return nil, err
		}
		c.length = true
	case t.kind == tokDollar:
		if c.path, err = p.path(); err != nil {
			return nil, err
		}
	default:
		return nil, p.lx.errAt(t.pos, `expected a path like $.status or len($.items), got %s`, t.describe())
	}
	if err := p.operation(c); err != nil {
		return nil, err
	}
	if t, err := p.take(); err != nil {
		return nil, err
	} else if t.kind != tokEOF {
		return nil, p.lx.errAt(t.pos, "unexpected %s after the condition", t.describe())
	}
	return c, nil
}

// expect consumes a token of kind k, or fails saying what was wanted.
func (p *condParser) expect(k tokKind, what string) error {
	t, err := p.take()
	if err != nil {
		return err
	}
	if t.kind != k {
		return p.lx.errAt(t.pos, "expected %s, got %s", what, t.describe())
	}
	return nil
}

// path reads the steps after "$".
func (p *condParser) path() (jsonPath, error) {
	var path jsonPath
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case tokDot:
			p.skip()
			key, err := p.lx.key()
			if err != nil {
				return nil, err
			}
			path = append(path, pathStep{key: key})
		case tokLBrack:
			p.skip()
			step, err := p.bracket()
			if err != nil {
				return nil, err
			}
			path = append(path, step)
		default:
			return path, nil
		}
	}
}

// bracket reads what follows "[": an index or a quoted key, then "]".
func (p *condParser) bracket() (pathStep, error) {
	t, err := p.take()
	if err != nil {
		return pathStep{}, err
	}
	var step pathStep
	switch t.kind {
	case tokString:
		step = pathStep{key: t.value}
	case tokNumber:
		n, err := strconv.Atoi(t.text)
		if err != nil || n < 0 || strings.ContainsAny(t.text, ".eE") {
			return pathStep{}, p.lx.errAt(t.pos, "expected an index (0, 1, …) or a quoted key, got %s", t.describe())
		}
		step = pathStep{index: n, isIndex: true}
	default:
		return pathStep{}, p.lx.errAt(t.pos, `expected an index (0, 1, …) or a quoted key after "[", got %s`, t.describe())
	}
	if err := p.expect(tokRBrack, `"]"`); err != nil {
		return pathStep{}, err
	}
	return step, nil
}

// operation reads what follows the path: exists, matches "re", or a
// comparison with a literal.
func (p *condParser) operation(c *JSONCondition) error {
	t, err := p.take()
	if err != nil {
		return err
	}
	subject := c.path.String()
	if c.length {
		subject = "len(" + subject + ")"
	}
	switch {
	case t.kind == tokOp:
		c.op = t.text
		return p.literal(c, t)
	case t.kind == tokWord && (t.text == "exists" || t.text == "matches") && !c.length:
		c.op = t.text
		if t.text == "exists" {
			return nil
		}
		return p.regex(c)
	case c.length:
		return p.lx.errAt(t.pos, "expected an operator (==, !=, <, <=, >, >=) after %s, got %s", subject, t.describe())
	}
	return p.lx.errAt(t.pos, `expected an operator (==, !=, <, <=, >, >=), "exists" or "matches" after %s, got %s`, subject, t.describe())
}

// literal reads the literal after the operator op.
func (p *condParser) literal(c *JSONCondition, op token) error {
	t, err := p.take()
	if err != nil {
		return err
	}
	switch {
	case t.kind == tokString:
		c.lit = jsonLiteral{kind: kindString, str: t.value}
	case t.kind == tokNumber:
		c.lit = jsonLiteral{kind: kindNumber, num: t.text}
	case t.kind == tokWord && (t.text == "true" || t.text == "false"):
		c.lit = jsonLiteral{kind: kindBool, b: t.text == "true"}
	case t.kind == tokWord && t.text == "null":
		c.lit = jsonLiteral{kind: kindNull}
	default:
		hint := ""
		if t.kind == tokWord {
			hint = " (quote a string: \"" + t.text + "\")"
		}
		return p.lx.errAt(t.pos, `expected a literal after %q, got %s%s`, op.text, t.describe(), hint)
	}
	switch {
	case c.length && c.lit.kind != kindNumber:
		return p.lx.errAt(t.pos, "len() compares with a number, got %s", t.describe())
	case isOrdering(c.op) && c.lit.kind != kindNumber && c.lit.kind != kindString:
		return p.lx.errAt(t.pos, "%q compares numbers or strings, got %s", c.op, t.describe())
	}
	return nil
}

// regex reads the string after "matches" and compiles it.
func (p *condParser) regex(c *JSONCondition) error {
	t, err := p.take()
	if err != nil {
		return err
	}
	if t.kind != tokString {
		return p.lx.errAt(t.pos, `expected a regular expression in double quotes after "matches", got %s`, t.describe())
	}
	re, err := regexp.Compile(t.value)
	if err != nil {
		return p.lx.errAt(t.pos, "%v", err)
	}
	c.re = re
	return nil
}

func isOrdering(op string) bool {
	return op == "<" || op == "<=" || op == ">" || op == ">="
}
