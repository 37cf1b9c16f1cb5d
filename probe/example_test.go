package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

// A check is built from its kind's Spec (the YAML block, as a Go value)
// and the target's URL, then run once against an Env that holds the
// connection pools. A failed condition is an error classed with a state
// and reason, and says what was seen.
func ExampleHTTPSpec() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"status": "DEGRADED", "replicas": [1, 2, 3]}`)
	}))
	defer srv.Close()

	target, _ := url.Parse(srv.URL + "/healthz")
	spec := probe.HTTPSpec{
		Status: []any{200},
		JSON:   []string{`len($.replicas) >= 2`, `$.status == "UP"`},
	}
	check, err := spec.Build(target)
	if err != nil {
		fmt.Println("bad spec:", err)
		return
	}
	env := probe.NewEnv(probe.Options{})
	defer env.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	detail, err := check.Run(ctx, env)
	state, reason := fanout.Classify(err)
	fmt.Println(check.Kind(), detail["status_code"], state, reason)
	fmt.Println(err)
	// Output:
	// http 200 fail condition
	// json: $.status == "UP": got "DEGRADED"
}
