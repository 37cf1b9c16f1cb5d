package probe

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Eval evaluates the condition against doc, a JSON document as
// encoding/json decodes it into an any with UseNumber (json.Number for
// numbers; float64 and Go integers are accepted too). It returns nil when
// the condition holds, else an error saying what was seen: `got "DOWN"`,
// `$.data.status is missing`, `got "3" (string), not a number`.
//
// A path that is missing fails every condition but exists, which is then
// false. == is false and != true between values of different types;
// ordering them (<, <=, >, >=) fails. Numbers compare by value (1 == 1.0),
// exactly for integers, otherwise as float64; strings compare by bytes.
// len() counts an array's elements, an object's members or a string's
// characters.
func (c *JSONCondition) Eval(doc any) error {
	v, err := c.path.lookup(doc)
	if err != nil || c.op == "exists" {
		return err
	}
	switch {
	case c.length:
		n, ok := jsonLen(v)
		if !ok {
			return fmt.Errorf("got %s (%s), len needs an array, an object or a string", renderJSON(v), jsonKind(v))
		}
		if !opHolds(c.op, compareNumbers(strconv.Itoa(n), c.lit.num)) {
			return fmt.Errorf("got %d", n)
		}
		return nil
	case c.op == "matches":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("got %s (%s), not a string", renderJSON(v), jsonKind(v))
		}
		if !c.re.MatchString(s) {
			return fmt.Errorf("got %s", renderJSON(v))
		}
		return nil
	case c.op == "==" || c.op == "!=":
		if equalLiteral(v, c.lit) != (c.op == "==") {
			return fmt.Errorf("got %s", renderJSON(v))
		}
		return nil
	}
	// An ordering: the parser let only numbers and strings through.
	var r int
	if c.lit.kind == kindNumber {
		n, ok := numberText(v)
		if !ok {
			return fmt.Errorf("got %s (%s), not a number", renderJSON(v), jsonKind(v))
		}
		r = compareNumbers(n, c.lit.num)
	} else {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("got %s (%s), not a string", renderJSON(v), jsonKind(v))
		}
		r = strings.Compare(s, c.lit.str)
	}
	if !opHolds(c.op, r) {
		return fmt.Errorf("got %s", renderJSON(v))
	}
	return nil
}

// lookup follows the path from doc. The error names the first step that
// is missing, or the value that cannot hold the next step.
func (p jsonPath) lookup(doc any) (any, error) {
	v := doc
	for i, s := range p {
		if s.isIndex {
			arr, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s is %s, not an array", p[:i], kindArticle(jsonKind(v)))
			}
			if s.index >= len(arr) {
				return nil, fmt.Errorf("%s is missing (array of %d)", p[:i+1], len(arr))
			}
			v = arr[s.index]
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is %s, not an object", p[:i], kindArticle(jsonKind(v)))
		}
		if v, ok = obj[s.key]; !ok {
			return nil, fmt.Errorf("%s is missing", p[:i+1])
		}
	}
	return v, nil
}

// jsonKind returns the JSON type of a decoded value.
func jsonKind(v any) litKind {
	switch v.(type) {
	case nil:
		return kindNull
	case bool:
		return kindBool
	case string:
		return kindString
	case []any:
		return kindArray
	case map[string]any:
		return kindObject
	}
	return kindNumber
}

func kindArticle(k litKind) string {
	switch k {
	case kindNull:
		return "null"
	case kindArray, kindObject:
		return "an " + k.String()
	}
	return "a " + k.String()
}

// numberText returns the JSON text of a number.
func numberText(v any) (string, bool) {
	switch n := v.(type) {
	case json.Number:
		return string(n), true
	case float64:
		return strconv.FormatFloat(n, 'g', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(n), 'g', -1, 32), true
	}
	if n, ok := asInt(v); ok {
		return strconv.Itoa(n), true
	}
	return "", false
}

// maxExactDigits bounds the integers compared exactly: longer ones (rare,
// and costly to convert) compare as float64.
const maxExactDigits = 40

// compareNumbers compares two JSON numbers: exactly when both are integers
// of at most maxExactDigits digits, otherwise as float64 (a number beyond
// float64's range is ±Inf).
func compareNumbers(a, b string) int {
	if isIntegerText(a) && isIntegerText(b) {
		x, okx := new(big.Int).SetString(a, 10)
		y, oky := new(big.Int).SetString(b, 10)
		if okx && oky {
			return x.Cmp(y)
		}
	}
	x, _ := strconv.ParseFloat(a, 64)
	y, _ := strconv.ParseFloat(b, 64)
	return cmp.Compare(x, y)
}

func isIntegerText(s string) bool {
	return len(s) <= maxExactDigits && !strings.ContainsAny(s, ".eE")
}

// opHolds applies a comparison operator to the result of a comparison.
func opHolds(op string, r int) bool {
	switch op {
	case "==":
		return r == 0
	case "!=":
		return r != 0
	case "<":
		return r < 0
	case "<=":
		return r <= 0
	case ">":
		return r > 0
	}
	return r >= 0
}

// equalLiteral reports whether v equals the literal: same type and value.
func equalLiteral(v any, l jsonLiteral) bool {
	switch l.kind {
	case kindNull:
		return v == nil
	case kindBool:
		b, ok := v.(bool)
		return ok && b == l.b
	case kindString:
		s, ok := v.(string)
		return ok && s == l.str
	}
	n, ok := numberText(v)
	return ok && compareNumbers(n, l.num) == 0
}

func jsonLen(v any) (int, bool) {
	switch x := v.(type) {
	case []any:
		return len(x), true
	case map[string]any:
		return len(x), true
	case string:
		return utf8.RuneCountInString(x), true
	}
	return 0, false
}

// renderCap bounds a value shown in a message.
const renderCap = 100

// renderJSON shows a value as JSON, shortened to renderCap bytes.
func renderJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return clip(fmt.Sprint(v), renderCap)
	}
	return clip(string(b), renderCap)
}

// clip shortens s to at most n bytes, on a character boundary, marking
// the cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// decodeJSON decodes a body for JSON conditions: one JSON value, numbers
// as json.Number, nothing but blanks after it.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty body")
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}
