package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fanout-dev/fanout/config"
)

// FuzzParse feeds the config parser arbitrary YAML: it must never panic,
// and every error must be one line naming the file.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(string(data))
			}
		}
	}
	f.Add("checks:\n  - target: http://${HOST}/\n    http: {status: [200, \"3xx\", \"500-502\"]}\n")
	f.Add("checks:\n  - &a {target: tcp://h:1}\n  - *a\n")
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := config.Parse("fuzz.yaml", []byte(text), env)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q does not start with the file or spans lines", err)
			}
			return
		}
		for _, c := range cfg.Checks {
			if c.Check == nil || c.Name == "" {
				t.Fatalf("check without a Check or a name: %+v", c)
			}
		}
	})
}
