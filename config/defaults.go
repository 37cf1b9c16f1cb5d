package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Defaults are the `defaults:` block: a key for every command-line flag
// that shapes a run (flag --per-host is key per_host). A nil field was not
// given. Flags given on the command line override these.
type Defaults struct {
	Concurrency *int           `yaml:"concurrency"`
	PerHost     *int           `yaml:"per_host"`
	Timeout     *time.Duration `yaml:"timeout"`
	Deadline    *time.Duration `yaml:"deadline"`
	Retries     *int           `yaml:"retries"`
	RetryBudget *Share         `yaml:"retry_budget"`
	Rate        *float64       `yaml:"rate"`
	PerHostRate *float64       `yaml:"per_host_rate"`
	Burst       *int           `yaml:"burst"`
	NoAdapt     *bool          `yaml:"no_adapt"`
	Output      *string        `yaml:"output"`
	Order       *string        `yaml:"order"`
	Quiet       *bool          `yaml:"quiet"`
	All         *bool          `yaml:"all"`
	Tag         []string       `yaml:"tag"`

	// where maps a flag name to the position of its key, for errors
	// about values checked later (ranges).
	where map[string]string
}

// Share is a fraction written as "10%" or 0.1.
type Share string

// UnmarshalYAML reads a number or a string.
func (s *Share) UnmarshalYAML(unmarshal func(any) error) error {
	var v any
	if err := unmarshal(&v); err != nil {
		return err
	}
	*s = Share(strings.TrimSpace(fmt.Sprint(v)))
	return nil
}

// Flags returns the values the file gives, keyed by flag name ("per-host"),
// in the form the flag parses.
func (d *Defaults) Flags() map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(d).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := v.Field(i)
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || !t.Field(i).IsExported() {
			continue
		}
		flag := strings.ReplaceAll(name, "_", "-")
		switch {
		case f.Kind() == reflect.Pointer && !f.IsNil():
			out[flag] = formatFlag(f.Elem().Interface())
		case f.Kind() == reflect.Slice && f.Len() > 0:
			out[flag] = strings.Join(f.Interface().([]string), ",")
		}
	}
	return out
}

func formatFlag(v any) string {
	switch x := v.(type) {
	case time.Duration:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// Where returns "file:line:col: defaults.key" for a flag the file set, for
// errors found later about its value; "" if the file did not set it.
func (d *Defaults) Where(flag string) string {
	return d.where[flag]
}

// checkDefaults records where each key is, and rejects what is never
// valid whatever the flags say.
func (d *decoder) checkDefaults(node ast.Node, def *Defaults) error {
	m, err := d.mapping(node, "defaults")
	if err != nil {
		return err
	}
	def.where = map[string]string{}
	for _, kv := range m.Values {
		key := keyOf(kv)
		pos := kv.Value.GetToken().Position
		def.where[strings.ReplaceAll(key, "_", "-")] = fmt.Sprintf("%s:%d:%d: defaults.%s", d.file, pos.Line, pos.Column, key)
	}
	return nil
}
