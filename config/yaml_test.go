package config_test

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fanout-dev/fanout/config"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// env is the environment the config tests see.
func env(name string) (string, bool) {
	v, ok := map[string]string{
		"API_TOKEN": "s3cr3t-token", "HOST": "api.example",
		"PER_HOST": "3", "RATE": "2.5", "INSECURE": "true", "WORD": "many",
	}[name]
	return v, ok
}

// TestInvalidConfigs checks the exact error of each invalid config in
// testdata/invalid against the .err file beside it (-update rewrites).
func TestInvalidConfigs(t *testing.T) {
	eachFile(t, "testdata/invalid/*.yaml", func(t *testing.T, file string, data []byte) {
		_, err := config.Parse(filepath.Base(file), data, env)
		if err == nil {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("error spans lines: %q", err)
		}
		golden(t, strings.TrimSuffix(file, ".yaml")+".err", err.Error()+"\n")
	})
}

// TestValidConfigs checks what each valid config in testdata/valid
// decodes to against its .golden file.
func TestValidConfigs(t *testing.T) {
	eachFile(t, "testdata/valid/*.yaml", func(t *testing.T, file string, data []byte) {
		cfg, err := config.Parse(filepath.Base(file), data, env)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, strings.TrimSuffix(file, ".yaml")+".golden", render(cfg))
	})
}

// eachFile runs test as a subtest on every file matching pattern.
func eachFile(t *testing.T, pattern string, test func(t *testing.T, file string, data []byte)) {
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			test(t, file, data)
		})
	}
}

// render shows a config as text for golden files.
func render(cfg *config.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "defaults: %v\n", cfg.Defaults.Flags())
	for _, c := range cfg.Checks {
		fmt.Fprintf(&b, "check %q kind=%s host=%s target=%q tags=%v timeout=%s source=%s secrets=%d\n",
			c.Name, c.Check.Kind(), c.Check.Host(), c.Display, c.Tags, c.Timeout, c.Source, len(c.Secrets))
	}
	for _, host := range slices.Sorted(maps.Keys(cfg.Hosts)) {
		l := cfg.Hosts[host]
		fmt.Fprintf(&b, "host %s per_host=%d per_host_rate=%g burst=%d\n", host, l.PerHost, l.PerHostRate, l.Burst)
	}
	return b.String()
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s:\n got  %s want %s", path, got, want)
	}
}

// A duplicate name is an error that quotes the name: a ${VAR} in it is a
// secret, and the error must not print its value.
func TestDuplicateNameErrorHoldsNoSecret(t *testing.T) {
	env := func(string) (string, bool) { return "supersecret123", true }
	src := "checks:\n  - name: a ${TOK}\n    target: http://a.example/\n  - name: a ${TOK}\n    target: http://b.example/\n"
	_, err := config.Parse("c.yaml", []byte(src), env)
	if err == nil || !strings.Contains(err.Error(), "duplicate name") {
		t.Fatalf("err %v, want a duplicate name", err)
	}
	if strings.Contains(err.Error(), "supersecret123") {
		t.Errorf("the error prints the secret: %v", err)
	}
}

// A per_host_rate of .nan or .inf is no rate: refused, like a negative one.
func TestHostRateMustBeFinite(t *testing.T) {
	for _, v := range []string{".nan", ".inf", "-1"} {
		src := "checks:\n  - target: http://a.example/\nhosts:\n  a.example:80: {per_host_rate: " + v + "}\n"
		if _, err := config.Parse("c.yaml", []byte(src), nil); err == nil || !strings.Contains(err.Error(), "per_host_rate: must be a finite number") {
			t.Errorf("per_host_rate %s: err %v", v, err)
		}
	}
}
