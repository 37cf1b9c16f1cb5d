package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/fanout-dev/fanout/probe"
)

// common holds the fields every check has, whatever its kind.
type common struct {
	Name    string        `yaml:"name"`
	Target  string        `yaml:"target"`
	Tags    []string      `yaml:"tags"`
	Timeout time.Duration `yaml:"timeout"`
}

func checkKeys() []string {
	return append([]string{"name", "target", "tags", "timeout"}, probe.KindNames()...)
}

// decodeChecks reads the checks: list. Names are unique.
func (d *decoder) decodeChecks(node ast.Node) ([]Target, error) {
	seq, ok := unwrap(node).(*ast.SequenceNode)
	if !ok {
		return nil, d.errorf(node, "checks", "want a list of checks, got %s", describe(node))
	}
	if len(seq.Values) == 0 {
		return nil, d.errorf(node, "checks", "the list is empty: a config needs at least one check")
	}
	out := make([]Target, 0, len(seq.Values))
	for i, item := range seq.Values {
		t, err := d.decodeCheck(item, fmt.Sprintf("checks[%d]", i))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	// Only now, with every value decoded, is it known which expansions
	// were read as numbers or booleans and are no secrets.
	secrets := d.secrets()
	all := slices.Clone(secrets)
	for i := range out {
		out[i].Secrets = append(out[i].Secrets, secrets...)
		all = append(all, out[i].Secrets...)
	}
	// One redactor for every check: masking another check's secret too
	// hides nothing that should show.
	slices.Sort(all)
	redactor := NewRedactor(slices.Compact(all))
	first := map[string]int{} // name → line
	for i, item := range seq.Values {
		t := &out[i]
		t.Redactor = redactor
		// Expanded values are secrets wherever they appear, the target
		// and the name too (the error below prints it).
		t.Display = redactor.Redact(t.Display)
		t.Name = redactor.Redact(t.Name)
		if t.Name == "" {
			t.Name = t.Display
		}
		line := item.GetToken().Position.Line
		if at, dup := first[t.Name]; dup {
			return nil, d.errorf(fieldNode(item, "name"), fmt.Sprintf("checks[%d].name", i),
				"duplicate name %q (first used on line %d): names must be unique", t.Name, at)
		}
		first[t.Name] = line
	}
	return out, nil
}

// decodeCheck reads one check: its common fields and at most one kind
// block, which must agree with the target's scheme.
func (d *decoder) decodeCheck(node ast.Node, path string) (Target, error) {
	m, err := d.mapping(node, path)
	if err != nil {
		return Target{}, err
	}
	var c common
	fields := fieldsOf(reflect.ValueOf(&c).Elem())
	var block *ast.MappingValueNode
	for _, kv := range m.Values {
		key := keyOf(kv)
		if _, isKind := probe.NewSpec(key); isKind {
			if block != nil {
				return Target{}, d.errorf(kv.Key, join(path, key), "a check has one kind block, and this one has %s: already", keyOf(block))
			}
			block = kv
			continue
		}
		field, ok := fields[key]
		if !ok {
			return Target{}, d.unknownKey(kv.Key, path, key, checkKeys())
		}
		if err := d.decodeValue(kv.Value, join(path, key), field); err != nil {
			return Target{}, err
		}
	}
	return d.buildCheck(node, path, c, block)
}

// buildCheck decides the kind, decodes its block and builds the check.
func (d *decoder) buildCheck(node ast.Node, path string, c common, block *ast.MappingValueNode) (Target, error) {
	kind, u, err := d.kindOf(node, path, c, block)
	if err != nil {
		return Target{}, err
	}
	spec, _ := probe.NewSpec(kind)
	if block != nil {
		if err := d.decodeStruct(block.Value, join(path, kind), spec); err != nil {
			return Target{}, err
		}
	}
	check, err := spec.Build(u)
	if err != nil {
		return Target{}, d.buildError(node, path, kind, block, err)
	}
	if c.Timeout < 0 || (fieldNode(node, "timeout") != nil && c.Timeout == 0) {
		return Target{}, d.errorf(fieldNode(node, "timeout"), join(path, "timeout"), "must be greater than 0")
	}
	t := Target{
		Raw: c.Target, Name: c.Name, Tags: c.Tags, Timeout: c.Timeout, Check: check,
		Source: fmt.Sprintf("%s:%d", d.file, node.GetToken().Position.Line),
	}
	if u != nil {
		t.Display, t.Normal, t.Secrets = Redact(c.Target), normalise(u), secretValues(u)
	} else {
		t.Display, t.Normal = describeCheck(check, c.Name), "exec:"+c.Name
	}
	if s, ok := spec.(probe.Secretive); ok {
		t.Secrets = append(t.Secrets, s.Secrets()...)
	}
	return t, nil
}

// kindOf decides a check's kind from its target's scheme, or from an exec
// block when it has no target.
func (d *decoder) kindOf(node ast.Node, path string, c common, block *ast.MappingValueNode) (string, *url.URL, error) {
	blockKind := ""
	if block != nil {
		blockKind = keyOf(block)
	}
	if c.Target == "" {
		switch {
		case blockKind == "exec" && c.Name == "":
			return "", nil, d.errorf(node, path, "an exec check needs a name")
		case blockKind == "exec":
			return "exec", nil, nil
		case fieldNode(node, "target") != nil:
			return "", nil, d.errorf(fieldNode(node, "target"), join(path, "target"), "empty target")
		}
		return "", nil, d.errorf(node, path, "a check needs a target (or an exec: block)")
	}
	targetNode := fieldNode(node, "target")
	if blockKind == "exec" {
		return "", nil, d.errorf(targetNode, join(path, "target"), "an exec check takes no target: the command is in exec.command")
	}
	u, err := parseURL(strings.TrimSpace(c.Target))
	if err == nil {
		err = probe.ValidateURL(u)
	}
	if err != nil {
		return "", nil, d.errorf(targetNode, join(path, "target"), "malformed target %q: %v", Redact(c.Target), err)
	}
	kind, _ := probe.KindOfScheme(u.Scheme)
	if blockKind != "" && blockKind != kind {
		return "", nil, d.errorf(block.Key, join(path, blockKind),
			"the target is %s %s check (scheme %s): its options go in a %s: block", article(kind), kind, u.Scheme, kind)
	}
	return kind, u, nil
}

// buildError places an error from a Spec's Build at the field it names.
func (d *decoder) buildError(node ast.Node, path, kind string, block *ast.MappingValueNode, err error) error {
	var fe *probe.FieldError
	if !errors.As(err, &fe) || block == nil {
		at := fieldNode(node, "target")
		if at == nil {
			at = node
		}
		return d.errorf(at, path, "%v", err)
	}
	at := block.Value
	where := join(path, kind)
	for _, step := range fe.Path {
		next := childNode(at, step)
		if next == nil {
			break
		}
		at = next
		if _, isIndex := strconv.Atoi(step); isIndex == nil {
			where += "[" + step + "]"
		} else {
			where = join(where, step)
		}
	}
	tok := at.GetToken()
	if fe.Offset > 0 {
		tok = columnAt(tok, fe.Offset-1)
	}
	return d.errorAt(tok, where, fe.Err.Error())
}

// fieldNode returns the value node of key in mapping node, or nil.
func fieldNode(node ast.Node, key string) ast.Node {
	m, ok := unwrap(node).(*ast.MappingNode)
	if !ok {
		return nil
	}
	for _, kv := range m.Values {
		if keyOf(kv) == key {
			return kv.Value
		}
	}
	return nil
}

// childNode steps into a mapping by key or a list by index.
func childNode(node ast.Node, step string) ast.Node {
	switch n := unwrap(node).(type) {
	case *ast.MappingNode:
		return fieldNode(n, step)
	case *ast.SequenceNode:
		if i, err := strconv.Atoi(step); err == nil && i >= 0 && i < len(n.Values) {
			return n.Values[i]
		}
	}
	return nil
}

// describeCheck is what reports show as the target of a check without one
// (exec): its own description, or its name.
func describeCheck(c probe.Check, name string) string {
	if s, ok := c.(fmt.Stringer); ok {
		return s.String()
	}
	return name
}

// Select returns the checks having any of tags; all of them if tags is
// empty.
func Select(checks []Target, tags []string) []Target {
	if len(tags) == 0 {
		return checks
	}
	var out []Target
	for _, t := range checks {
		if slices.ContainsFunc(t.Tags, func(tag string) bool { return slices.Contains(tags, tag) }) {
			out = append(out, t)
		}
	}
	return out
}

// article is "an" before a vowel sound: an http check, a tcp check.
func article(word string) string {
	if strings.ContainsRune("aeiouh", rune(word[0])) && word != "https" {
		return "an"
	}
	return "a"
}
