package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Strict decoding, written over goccy/go-yaml's AST rather than left to its
// decoder: every key of every mapping must name a field (with a "did you
// mean" when it is close), and each value is decoded on its own so that an
// error points at that value's line and column and names its YAML path.

// decodeStruct decodes the mapping node into the struct out points to.
// Fields are named by their yaml tags; ",inline" fields lend their fields
// to the enclosing mapping.
func (d *decoder) decodeStruct(node ast.Node, path string, out any) error {
	m, err := d.mapping(node, path)
	if err != nil {
		return err
	}
	fields := fieldsOf(reflect.ValueOf(out).Elem())
	known := make([]string, 0, len(fields))
	for name := range fields {
		known = append(known, name)
	}
	for _, kv := range m.Values {
		key := keyOf(kv)
		field, ok := fields[key]
		if !ok {
			return d.unknownKey(kv.Key, path, key, known)
		}
		if err := d.decodeValue(kv.Value, join(path, key), field); err != nil {
			return err
		}
	}
	return nil
}

// decodeValue decodes node into the field v.
func (d *decoder) decodeValue(node ast.Node, path string, v reflect.Value) error {
	if v.Kind() == reflect.Pointer && isNull(node) {
		return nil
	}
	if nested(v) {
		if v.Kind() == reflect.Pointer {
			v.Set(reflect.New(v.Type().Elem()))
			v = v.Elem()
		}
		return d.decodeStruct(node, path, v.Addr().Interface())
	}
	if v.Type() == reflect.TypeFor[time.Duration]() || v.Type() == reflect.TypeFor[*time.Duration]() {
		return d.decodeDuration(node, path, v)
	}
	target := v
	if v.Kind() == reflect.Pointer {
		target = reflect.New(v.Type().Elem()).Elem()
	}
	if s, ok := unwrap(node).(*ast.StringNode); ok && d.fromEnv[s] && isScalarKind(target.Kind()) {
		if err := setScalar(target, s.Value); err != nil {
			// The value came from the environment: a secret, never shown.
			return d.errorf(node, path, "want %s, got a value from the environment that is not", describeType(target.Type()))
		}
		if d.asScalar == nil {
			d.asScalar = map[string]int{}
		}
		d.asScalar[strings.TrimSpace(s.Value)]++
	} else if err := nodeToValue(node, target.Addr().Interface()); err != nil {
		return d.wrapDecodeError(node, path, err)
	}
	if v.Kind() == reflect.Pointer {
		v.Set(target.Addr())
	}
	return nil
}

func isScalarKind(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		return true
	}
	return false
}

// setScalar reads text into a bool, int or float field: an unquoted
// "${PER_HOST}" is a number once expanded, as it would be written by hand.
func setScalar(v reflect.Value, text string) error {
	text = strings.TrimSpace(text)
	switch v.Kind() {
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		v.SetBool(b)
		return err
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(text, 10, 64)
		v.SetInt(n)
		return err
	default:
		f, err := strconv.ParseFloat(text, 64)
		v.SetFloat(f)
		return err
	}
}

// decodeDuration reads "300ms", "2s", "1m30s"; a bare number is refused,
// since nobody can tell whether it meant seconds or nanoseconds.
func (d *decoder) decodeDuration(node ast.Node, path string, v reflect.Value) error {
	s, ok := unwrap(node).(*ast.StringNode)
	if !ok {
		return d.errorf(node, path, "want a duration such as 300ms or 5s, got %s", describe(node))
	}
	dur, err := time.ParseDuration(strings.TrimSpace(s.Value))
	if err != nil {
		return d.errorf(node, path, "want a duration such as 300ms or 5s, got %q", s.Value)
	}
	if v.Kind() == reflect.Pointer {
		v.Set(reflect.New(v.Type().Elem()))
		v = v.Elem()
	}
	v.SetInt(int64(dur))
	return nil
}

// nodeToValue is yaml.NodeToValue, except that a panic inside the library
// (FuzzParse found one, on a tagged mapping decoded into a list) becomes an
// error: a config file must never crash the command.
func nodeToValue(node ast.Node, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot read this value as %s", describeType(reflect.TypeOf(v).Elem()))
		}
	}()
	return yaml.NodeToValue(node, v, yaml.Strict())
}

// describeType names a Go type the way errors should: "a list".
func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	}
	return "a string"
}

// wrapDecodeError turns a goccy decode error into ours: position of the
// offending token, our path, its message without Go type names where we
// can say it better.
func (d *decoder) wrapDecodeError(node ast.Node, path string, err error) error {
	var ye yaml.Error
	tok := node.GetToken()
	msg := err.Error()
	if errors.As(err, &ye) {
		msg = ye.GetMessage()
		if t := ye.GetToken(); t != nil {
			tok = t
		}
	}
	switch {
	case strings.Contains(msg, "cannot unmarshal "):
		msg = plainTypeError(msg[strings.Index(msg, "cannot unmarshal "):], node)
	case strings.Contains(msg, "where sequence is expected"):
		msg = "want a list, got " + describe(node)
	case strings.Contains(msg, "where mapping is expected"):
		msg = "want a mapping of keys to values, got " + describe(node)
	}
	return d.errorAt(tok, path, msg)
}

// plainTypeError rewords "cannot unmarshal string into Go struct field
// X.Y of type int" as "want a whole number, got a string".
func plainTypeError(msg string, node ast.Node) string {
	want := "a different type"
	switch {
	case strings.HasSuffix(msg, "of type int"), strings.HasSuffix(msg, "type int"):
		want = "a whole number"
	case strings.Contains(msg, "float64"):
		want = "a number"
	case strings.Contains(msg, "type bool"):
		want = "true or false"
	case strings.Contains(msg, "[]string"):
		want = "a list of strings"
	case strings.Contains(msg, "map[string]string"):
		want = "a mapping of names to strings"
	case strings.Contains(msg, "type string"):
		want = "a string"
	}
	return fmt.Sprintf("want %s, got %s", want, describe(node))
}

// fieldsOf maps yaml names to the settable fields of struct v, inline
// fields flattened.
func fieldsOf(v reflect.Value) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, fv := range fieldsOf(v.Field(i)) {
				out[k] = fv
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = v.Field(i)
	}
	return out
}

// nested reports whether v is a plain struct (or pointer to one) whose
// keys are to be checked one by one, rather than a value type with its own
// decoding.
func nested(v reflect.Value) bool {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[time.Time]() {
		return false
	}
	unmarshaler := reflect.TypeFor[interface{ UnmarshalYAML(func(any) error) error }]()
	return !reflect.PointerTo(t).Implements(unmarshaler)
}

func isNull(n ast.Node) bool {
	_, ok := unwrap(n).(*ast.NullNode)
	return ok
}

// join extends a YAML path: join("checks[2]", "http") = "checks[2].http".
func join(path, key string) string {
	switch {
	case path == "":
		return key
	case strings.HasPrefix(key, "["):
		return path + key
	}
	return path + "." + key
}

// errorf is an error at node's position.
func (d *decoder) errorf(node ast.Node, path, format string, args ...any) error {
	var tok *token.Token
	if node != nil {
		tok = node.GetToken()
	}
	return d.errorAt(tok, path, fmt.Sprintf(format, args...))
}

// errorAt is an error at tok's position: "file:line:col: path: msg".
func (d *decoder) errorAt(tok *token.Token, path, msg string) error {
	where := d.file
	if tok != nil && tok.Position != nil {
		where += ":" + strconv.Itoa(tok.Position.Line) + ":" + strconv.Itoa(tok.Position.Column)
	}
	if path != "" {
		msg = path + ": " + msg
	}
	return &Error{Where: where, Msg: msg}
}

// Error is a config error: where (file:line:col) and what.
type Error struct {
	Where string
	Msg   string
}

func (e *Error) Error() string { return e.Where + ": " + e.Msg }

// yamlError turns a parser error into ours.
func yamlError(file string, err error) error {
	d := &decoder{file: file}
	var ye yaml.Error
	if errors.As(err, &ye) {
		return d.errorAt(ye.GetToken(), "", ye.GetMessage())
	}
	return fmt.Errorf("%s: %w", file, err)
}
