package probe_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/fanout-dev/fanout/probe"
)

func TestParseJSONCondition(t *testing.T) {
	tests := []struct{ src, canonical string }{
		{`$.status == "UP"`, `$.status == "UP"`},
		{`$.status=="UP"`, `$.status == "UP"`},
		{"\t$.a.b[0].c   !=   1.5e3 ", `$.a.b[0].c != 1.5e3`},
		{`$ exists`, `$ exists`},
		{`$.a exists`, `$.a exists`},
		{`$["key with space"].x == true`, `$["key with space"].x == true`},
		{`$["plain"] == false`, `$.plain == false`},
		{`$ ["a"] [ 2 ] == null`, `$.a[2] == null`},
		{`$.2xx-count >= 0`, `$.2xx-count >= 0`},
		{`$.ünïcode < "z"`, `$.ünïcode < "z"`},
		{`$[""] == ""`, `$[""] == ""`},
		{`$["a\"b\\c\n\u00e9\ud83d\ude00"] == "\t"`, "$[\"a\\\"b\\\\c\\né😀\"] == \"\\t\""},
		{`len($.replicas) >= 2`, `len($.replicas) >= 2`},
		{`len( $ ) > -1`, `len($) > -1`},
		{`$.version matches "^v\\d+"`, `$.version matches "^v\\d+"`},
		{`$.n <= -0.5`, `$.n <= -0.5`},
		{`$.exists exists`, `$.exists exists`},
		{`$.a == "\/"`, `$.a == "/"`},
	}
	for _, tt := range tests {
		c, err := probe.ParseJSONCondition(tt.src)
		if err != nil {
			t.Errorf("ParseJSONCondition(%q): %v", tt.src, err)
			continue
		}
		if c.Canonical() != tt.canonical {
			t.Errorf("ParseJSONCondition(%q): Canonical %q, want %q", tt.src, c.Canonical(), tt.canonical)
		}
	}
}

func TestParseJSONConditionErrors(t *testing.T) {
	tests := []struct {
		src    string
		offset int
		msg    string
	}{
		{``, 1, `col 1: expected a path like $.status or len($.items), got end of condition`},
		{`status == "UP"`, 1, `col 1: expected a path like $.status or len($.items), got "status"`},
		{`"UP" == $.status`, 1, `col 1: expected a path like $.status or len($.items), got "\"UP\""`},
		{`$.status ==`, 12, `col 12: expected a literal after "==", got end of condition`},
		{`$.status == UP`, 13, `col 13: expected a literal after "==", got "UP" (quote a string: "UP")`},
		{`$.status = "UP"`, 10, `col 10: unexpected "=" (write "==" to compare)`},
		{`$.status ! "UP"`, 10, `col 10: unexpected "!" (write "!=" to compare)`},
		{`$.status`, 9, `col 9: expected an operator (==, !=, <, <=, >, >=), "exists" or "matches" after $.status, got end of condition`},
		{`$.status is "UP"`, 10, `col 10: expected an operator (==, !=, <, <=, >, >=), "exists" or "matches" after $.status, got "is"`},
		{`$. status == 1`, 3, `col 3: expected a key after ".", got a blank (write ["key"] for a key with other characters)`},
		{`$.a.b:c == 1`, 6, `col 6: unexpected ":"`},
		{`$.a..b == 1`, 5, `col 5: expected a key after ".", got "." (write ["key"] for a key with other characters)`},
		{`$.a[ == 1`, 6, `col 6: expected an index (0, 1, …) or a quoted key after "[", got "=="`},
		{`$.a[-1] == 1`, 5, `col 5: expected an index (0, 1, …) or a quoted key, got "-1"`},
		{`$.a[1.5] == 1`, 5, `col 5: expected an index (0, 1, …) or a quoted key, got "1.5"`},
		{`$.a[0 == 1`, 7, `col 7: expected "]", got "=="`},
		{`$.a == "UP`, 8, `col 8: unterminated string`},
		{`$.a == "U\P"`, 10, `col 10: invalid escape "\\P" in string (a backslash is written \\)`},
		{`$.a == "\u12"`, 9, `col 9: invalid escape: \u needs four hex digits`},
		{`$.a == "\ud800"`, 9, `col 9: invalid escape: unpaired surrogate "\\ud800"`},
		{"$.a == \"x\ty\"", 10, `col 10: control character '\t' in string (escape it)`},
		{`$.a == 01`, 8, `col 8: invalid number "01"`},
		{`$.a == 1.`, 8, `col 8: invalid number "1."`},
		{`$.a == 1e`, 8, `col 8: invalid number "1e"`},
		{`$.a == 12abc`, 8, `col 8: invalid number "12abc"`},
		{`$.a == -`, 8, `col 8: invalid number "-"`},
		{`$.a < true`, 7, `col 7: "<" compares numbers or strings, got "true"`},
		{`$.a >= null`, 8, `col 8: ">=" compares numbers or strings, got "null"`},
		{`len($.a) == "2"`, 13, `col 13: len() compares with a number, got "\"2\""`},
		{`len($.a) exists`, 10, `col 10: expected an operator (==, !=, <, <=, >, >=) after len($.a), got "exists"`},
		{`len $.a > 1`, 5, `col 5: expected "(" after len, got "$"`},
		{`len(a) > 1`, 5, `col 5: expected a path like $.items inside len(), got "a"`},
		{`len($.a > 1`, 9, `col 9: expected ")" after the path, got ">"`},
		{`$.a matches 5`, 13, `col 13: expected a regular expression in double quotes after "matches", got "5"`},
		{`$.a matches "(x"`, 13, "col 13: error parsing regexp: missing closing ): `(x`"},
		{`$.a == 1 and $.b == 2`, 10, `col 10: unexpected "and" after the condition`},
		{`$.a exists 1`, 12, `col 12: unexpected "1" after the condition`},
		// Columns count characters; offsets bytes.
		{`$["é"] ==`, 11, `col 10: expected a literal after "==", got end of condition`},
		{`$.a == "é` + strings.Repeat("x", 60), 8, `col 8: unterminated string`},
		{`$.a == ` + strings.Repeat("x", 60), 8,
			`col 8: expected a literal after "==", got "` + strings.Repeat("x", 40) + `…" (quote a string: "` + strings.Repeat("x", 60) + `")`},
	}
	for _, tt := range tests {
		_, err := probe.ParseJSONCondition(tt.src)
		var se *probe.ConditionSyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseJSONCondition(%q) = %v, want a *ConditionSyntaxError", tt.src, err)
			continue
		}
		if se.Error() != tt.msg || se.Offset != tt.offset {
			t.Errorf("ParseJSONCondition(%q):\n got %q offset %d\nwant %q offset %d", tt.src, se, se.Offset, tt.msg, tt.offset)
		}
	}
}

// decode decodes JSON as an HTTP check does: numbers as json.Number.
func decode(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJSONConditionEval(t *testing.T) {
	doc := decode(t, `{
		"status": "UP", "ready": true, "down": false, "none": null, "n": 42, "f": 0.5, "neg": -3,
		"big": 12345678901234567890, "exp": 1e3, "s": "héllo", "empty": "",
		"a": {"b": [{"c": 1}, {"c": [10, 20]}], "d": {}}, "list": [1, "two", null],
		"key with space": "yes", "": "blank key"}`)
	tests := []struct {
		cond string
		err  string // "" when the condition holds
	}{
		{`$ exists`, ""},
		{`$.status == "UP"`, ""},
		{`$.status == "DOWN"`, `got "UP"`},
		{`$.status != "DOWN"`, ""},
		{`$.status != "UP"`, `got "UP"`},
		{`$.ready == true`, ""},
		{`$.ready == false`, `got true`},
		{`$.down == false`, ""},
		{`$.none == null`, ""},
		{`$.none exists`, ""},
		{`$.none != null`, `got null`},
		{`$.n == 42`, ""},
		{`$.n == 42.0`, ""},
		{`$.n == 4.2e1`, ""},
		{`$.n > 41.9`, ""},
		{`$.n >= 42`, ""},
		{`$.n < 42`, `got 42`},
		{`$.n <= 41`, `got 42`},
		{`$.f < 1`, ""},
		{`$.neg < 0`, ""},
		{`$.big == 12345678901234567890`, ""},
		{`$.big != 12345678901234567891`, ""},
		{`$.big > 12345678901234567889`, ""},
		{`$.exp == 1000`, ""},
		{`$.exp > 1e400`, `got 1e3`},
		// Different types: == false, != true, ordering fails.
		{`$.n == "42"`, `got 42`},
		{`$.n != "42"`, ""},
		{`$.status == 1`, `got "UP"`},
		{`$.none == false`, `got null`},
		{`$.n < "5"`, `got 42 (number), not a string`},
		{`$.status > 1`, `got "UP" (string), not a number`},
		{`$.a > 1`, `got {"b":[{"c":1},{"c":[10,20]}],"d":{}} (object), not a number`},
		// Strings order by bytes.
		{`$.status > "A"`, ""},
		{`$.status < "UPS"`, ""},
		{`$.s >= "hz"`, ""}, // é's first byte is above z
		{`$.s >= "i"`, `got "héllo"`},
		// Paths.
		{`$.a.b[0].c == 1`, ""},
		{`$.a.b[1].c[1] == 20`, ""},
		{`$["a"]["b"][1]["c"][0] == 10`, ""},
		{`$["key with space"] == "yes"`, ""},
		{`$[""] == "blank key"`, ""},
		{`$.list[1] == "two"`, ""},
		{`$.list[2] == null`, ""},
		{`$.missing == 1`, `$.missing is missing`},
		{`$.missing != 1`, `$.missing is missing`},
		{`$.missing exists`, `$.missing is missing`},
		{`$.a.x.y exists`, `$.a.x is missing`},
		{`$.a.b[2].c == 1`, `$.a.b[2] is missing (array of 2)`},
		{`$.a.b.c == 1`, `$.a.b is an array, not an object`},
		{`$.status[0] == "U"`, `$.status is a string, not an array`},
		{`$.none.x exists`, `$.none is null, not an object`},
		{`$.n[0] exists`, `$.n is a number, not an array`},
		{`$[0] exists`, `$ is an object, not an array`},
		// len.
		{`len($.list) == 3`, ""},
		{`len($.a) == 2`, ""},
		{`len($.a.d) == 0`, ""},
		{`len($.s) == 5`, ""},
		{`len($.empty) == 0`, ""},
		{`len($.list) > 3`, `got 3`},
		{`len($.n) > 0`, `got 42 (number), len needs an array, an object or a string`},
		{`len($.missing) > 0`, `$.missing is missing`},
		// matches.
		{`$.status matches "^U"`, ""},
		{`$.s matches "^h.llo$"`, ""},
		{`$.status matches "^D"`, `got "UP"`},
		{`$.n matches "4"`, `got 42 (number), not a string`},
	}
	for _, tt := range tests {
		c, err := probe.ParseJSONCondition(tt.cond)
		if err != nil {
			t.Errorf("ParseJSONCondition(%q): %v", tt.cond, err)
			continue
		}
		err = c.Eval(doc)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || err.Error() != tt.err) {
			t.Errorf("%s: Eval = %v, want %q", tt.cond, err, tt.err)
		}
	}
}

func TestJSONConditionEvalGoValues(t *testing.T) {
	// Documents decoded without UseNumber, or built in Go, work too.
	doc := map[string]any{"n": float64(3), "i": 7, "list": []any{"x"}}
	for _, cond := range []string{`$.n == 3`, `$.n < 3.5`, `$.i == 7`, `len($.list) == 1`} {
		c, err := probe.ParseJSONCondition(cond)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Eval(doc); err != nil {
			t.Errorf("%s: %v", cond, err)
		}
	}
}

func TestJSONConditionLongValue(t *testing.T) {
	c, err := probe.ParseJSONCondition(`$.s == "x"`)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Eval(map[string]any{"s": strings.Repeat("é", 100)})
	if want := `got "` + strings.Repeat("é", 49) + "…"; err == nil || err.Error() != want {
		t.Errorf("Eval = %v, want %q", err, want)
	}
}

// FuzzJSONCondition checks that the parser never panics, that a parsed
// condition's canonical form parses to the same canonical form, and that
// evaluating it against a few documents never panics.
func FuzzJSONCondition(f *testing.F) {
	for _, seed := range []string{
		`$.status == "UP"`, `$.a[0].b != 1.5e3`, `$["key with space"] exists`, `len($.items) >= 2`,
		`$.v matches "^v\\d+"`, `$.x < "\u00e9\ud83d\ude00"`, `$ == null`, `$.a..b`, `len(`, `$["`, `$.a == -0`,
		`$.2xx-count > 0`, "$.\u00e9 == true",
	} {
		f.Add(seed)
	}
	docs := []any{
		decode(f, `{"status": "UP", "a": [{"b": 1}], "items": [1, 2], "v": "v12", "x": "é"}`),
		decode(f, `[1, "two", null, {"": false}]`),
		decode(f, `"just a string"`),
		nil,
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := probe.ParseJSONCondition(src)
		if err != nil {
			var se *probe.ConditionSyntaxError
			if !errors.As(err, &se) || se.Offset < 1 || se.Offset > len(src)+1 || se.Col < 1 || se.Col > se.Offset {
				t.Fatalf("ParseJSONCondition(%q): %v (%#v)", src, err, err)
			}
			return
		}
		canon := c.Canonical()
		again, err := probe.ParseJSONCondition(canon)
		if err != nil {
			t.Fatalf("%q: canonical form %q does not parse: %v", src, canon, err)
		}
		if again.Canonical() != canon {
			t.Fatalf("%q: canonical %q parses to canonical %q", src, canon, again.Canonical())
		}
		for _, doc := range docs {
			errA, errB := c.Eval(doc), again.Eval(doc)
			if (errA == nil) != (errB == nil) || errA != nil && !bytes.Equal([]byte(errA.Error()), []byte(errB.Error())) {
				t.Fatalf("%q and its canonical form %q evaluate differently: %v / %v", src, canon, errA, errB)
			}
		}
	})
}
