package config_test

import (
	"strings"
	"testing"

	"github.com/fanout-dev/fanout/config"
)

func TestReadList(t *testing.T) {
	in := `# services
https://a.example/healthz

  db.internal:5432   # the database
https://A.example:443/healthz
	# indented comment
http://b.example/x#frag
`
	got, err := config.ReadList(strings.NewReader(in), "services.txt")
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, tg := range got {
		sources = append(sources, tg.Source+" "+tg.Raw)
	}
	want := []string{
		"services.txt:2 https://a.example/healthz",
		"services.txt:4 db.internal:5432",
		"services.txt:5 https://A.example:443/healthz",
		"services.txt:7 http://b.example/x#frag",
	}
	if strings.Join(sources, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(sources, "\n"), strings.Join(want, "\n"))
	}
	kept, dups := config.Dedupe(got)
	if len(kept) != 3 || len(dups) != 1 || dups[0].Target.Source != "services.txt:5" || dups[0].First.Source != "services.txt:2" {
		t.Errorf("dedupe: kept %d, dups %+v", len(kept), dups)
	}
}

func TestReadListErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://ok.example/\nhtp://x\n", `list.txt:2: malformed target "htp://x": unknown scheme "htp"`},
		{"\n# only comments\n\n", "list.txt: no targets in the list"},
		{"", "list.txt: no targets in the list"},
		{"a:1\nb:2\nhost:notaport\n", `list.txt:3: malformed target "host:notaport": invalid port "notaport"`},
		{strings.Repeat("x", 2<<20), "list.txt: a line is longer than 1048576 bytes"},
	}
	for _, tc := range cases {
		_, err := config.ReadList(strings.NewReader(tc.in), "list.txt")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want prefix %q", err, tc.want)
		}
	}
}
