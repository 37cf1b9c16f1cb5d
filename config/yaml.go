package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/fanout-dev/fanout/probe"
)

// Config is a YAML config file, parsed and validated (DESIGN.md, "YAML
// config"; docs/checks.md documents every field).
type Config struct {
	// File is the path the config was read from, as given.
	File string
	// Defaults are the values the file gives to command-line flags.
	Defaults Defaults
	// Checks are the file's checks, in file order.
	Checks []Target
	// Hosts are per-host limits, keyed by lower-case host:port (or
	// "exec", "system-resolver").
	Hosts map[string]HostLimits
}

// HostLimits are the `hosts:` entry of one host. Zero fields keep the
// run's values.
type HostLimits struct {
	PerHost     int     `yaml:"per_host"`
	PerHostRate float64 `yaml:"per_host_rate"`
	Burst       int     `yaml:"burst"`
}

// Load reads and validates the config file at path. Environment variables
// come from the process.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse validates a config held in data; name is what errors call the
// file. lookupEnv answers ${NAME} references. Every error is one line:
// "name:line:col: yaml.path: what is wrong".
func Parse(name string, data []byte, lookupEnv func(string) (string, bool)) (cfg *Config, err error) {
	defer func() {
		// The YAML library has panicked on odd input before (see
		// nodeToValue): a config file must never crash the command.
		if p := recover(); p != nil {
			cfg, err = nil, fmt.Errorf("%s: cannot read this YAML (%v)", name, p)
		}
	}()
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, err)
	}
	d := &decoder{file: name, lookupEnv: lookupEnv, lines: strings.Split(string(data), "\n")}
	cfg = &Config{File: name, Hosts: map[string]HostLimits{}}
	if len(file.Docs) == 0 || file.Docs[0].Body == nil {
		return nil, fmt.Errorf("%s: the config is empty: want a checks: list", name)
	}
	if len(file.Docs) > 1 {
		return nil, d.errorf(file.Docs[1].Body, "", "one YAML document per config, found %d", len(file.Docs))
	}
	root := file.Docs[0].Body
	if err := d.expand(root); err != nil {
		return nil, err
	}
	if err := d.decodeTop(root, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// decoder turns YAML nodes into the config, keeping the file's name for
// positions and the values ${VAR} expanded to, which are secrets.
type decoder struct {
	file      string
	lines     []string // of the source, for positions the parser does not keep
	lookupEnv func(string) (string, bool)
	// expanded counts the uses of each value a ${VAR} expanded to, and
	// asScalar those of them read as a number or boolean: a value used
	// only so (per_host: ${N}) is no secret, any other is.
	expanded, asScalar map[string]int
	// fromEnv holds the plain (unquoted) scalars a ${VAR} expanded into:
	// they may still be read as numbers or booleans.
	fromEnv map[*ast.StringNode]bool
}

// secrets returns the values ${VAR} expanded to that are secrets.
func (d *decoder) secrets() []string {
	var out []string
	for v, n := range d.expanded {
		if n > d.asScalar[v] {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

var topKeys = []string{"defaults", "checks", "hosts"}

func (d *decoder) decodeTop(root ast.Node, cfg *Config) error {
	m, err := d.mapping(root, "")
	if err != nil {
		return err
	}
	var checks ast.Node
	for _, kv := range m.Values {
		key := keyOf(kv)
		switch key {
		case "defaults":
			if err := d.decodeStruct(kv.Value, "defaults", &cfg.Defaults); err != nil {
				return err
			}
			if err := d.checkDefaults(kv.Value, &cfg.Defaults); err != nil {
				return err
			}
		case "checks":
			checks = kv.Value
		case "hosts":
			if err := d.decodeHosts(kv.Value, cfg.Hosts); err != nil {
				return err
			}
		default:
			return d.unknownKey(kv.Key, "", key, topKeys)
		}
	}
	if checks == nil {
		return fmt.Errorf("%s: no checks: list: a config needs at least one check", d.file)
	}
	var err2 error
	cfg.Checks, err2 = d.decodeChecks(checks)
	return err2
}

// mapping returns node as a mapping, or an error naming path.
func (d *decoder) mapping(node ast.Node, path string) (*ast.MappingNode, error) {
	switch n := unwrap(node).(type) {
	case *ast.MappingNode:
		return n, nil
	case *ast.MappingValueNode:
		return &ast.MappingNode{BaseNode: n.BaseNode, Values: []*ast.MappingValueNode{n}}, nil
	case *ast.NullNode:
		return &ast.MappingNode{}, nil
	}
	return nil, d.errorf(node, path, "want a mapping of keys to values, got %s", describe(node))
}

// decodeHosts reads the hosts: block.
func (d *decoder) decodeHosts(node ast.Node, out map[string]HostLimits) error {
	m, err := d.mapping(node, "hosts")
	if err != nil {
		return err
	}
	for _, kv := range m.Values {
		host := strings.ToLower(keyOf(kv))
		path := "hosts." + host
		if err := validHostKey(host); err != nil {
			return d.errorf(kv.Key, path, "%v", err)
		}
		var hl HostLimits
		if err := d.decodeStruct(kv.Value, path, &hl); err != nil {
			return err
		}
		if err := d.checkHostLimits(kv.Value, path, hl); err != nil {
			return err
		}
		out[host] = hl
	}
	return nil
}

// checkHostLimits refuses limits that cannot be meant: a per_host or burst
// written as 0 (leaving a field out keeps the run's value), a negative,
// infinite or NaN rate.
func (d *decoder) checkHostLimits(node ast.Node, path string, hl HostLimits) error {
	m, err := d.mapping(node, path)
	if err != nil {
		return err
	}
	for _, kv := range m.Values {
		var bad bool
		switch keyOf(kv) {
		case "per_host":
			bad = hl.PerHost < 1
		case "burst":
			bad = hl.Burst < 1
		case "per_host_rate":
			if r := hl.PerHostRate; r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
				return d.errorf(kv.Value, path+".per_host_rate", "must be a finite number, 0 (unlimited) or more")
			}
		}
		if bad {
			return d.errorf(kv.Value, path+"."+keyOf(kv), "must be at least 1")
		}
	}
	return nil
}

// validHostKey accepts host:port, "exec" and "system-resolver".
func validHostKey(host string) error {
	if host == probe.ExecHost || host == probe.SystemResolver {
		return nil
	}
	i := strings.LastIndexByte(host, ':')
	if i <= 0 || i == len(host)-1 || strings.Trim(host[i+1:], "0123456789") != "" {
		return errors.New(`want host:port (e.g. "api.internal:443"), "exec" or "system-resolver"`)
	}
	return nil
}

// unknownKey is the error of a key that is not one of known, with a
// suggestion when one is close.
func (d *decoder) unknownKey(key ast.Node, path, name string, known []string) error {
	where := name
	if path != "" {
		where = path + "." + name
	}
	msg := fmt.Sprintf("unknown field %q", name)
	if s := suggest(name, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		sorted := slices.Clone(known)
		slices.Sort(sorted)
		msg += " (want one of " + strings.Join(sorted, ", ") + ")"
	}
	return d.errorf(key, where, "%s", msg)
}

// keyOf returns the text of a mapping key.
func keyOf(kv *ast.MappingValueNode) string {
	if s, ok := unwrap(kv.Key).(*ast.StringNode); ok {
		return s.Value
	}
	return kv.Key.GetToken().Value
}

// unwrap looks through tags and anchors to the node that holds the value.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.MappingKeyNode:
			n = v.Value
		default:
			return n
		}
	}
}

// describe names the YAML type of a node for error messages.
func describe(n ast.Node) string {
	switch unwrap(n).(type) {
	case *ast.SequenceNode:
		return "a list"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.NullNode:
		return "nothing"
	case *ast.IntegerNode, *ast.FloatNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	}
	return "a string"
}
