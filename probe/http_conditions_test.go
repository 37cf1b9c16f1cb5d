package probe_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

func TestHTTPStatusSets(t *testing.T) {
	base := statusServer(t)
	env := newEnv(t, probe.Options{})
	tests := []struct {
		path      string
		status    []any
		state     fanout.State
		reason    fanout.Reason
		retryable bool
		errText   string
	}{
		{"/200", []any{200}, fanout.StateOK, fanout.ReasonNone, false, ""},
		{"/201", []any{200}, fanout.StateFail, fanout.ReasonHTTPStatus, false, "status 201, want 200"},
		{"/301", []any{200}, fanout.StateFail, fanout.ReasonHTTPStatus, false, "status 301, want 200"},
		{"/204", []any{"2XX"}, fanout.StateOK, fanout.ReasonNone, false, ""},
		{"/302", []any{"3xx"}, fanout.StateOK, fanout.ReasonNone, false, ""},
		{"/501", []any{"500-502"}, fanout.StateOK, fanout.ReasonNone, false, ""},
		{"/502", []any{"500-502"}, fanout.StateOK, fanout.ReasonNone, false, ""},
		{"/503", []any{"500-502"}, fanout.StateFail, fanout.ReasonHTTPStatus, true, "status 503, want 500-502"},
		{"/404", []any{uint64(200), "3xx", "500-502"}, fanout.StateFail, fanout.ReasonHTTPStatus, false,
			"status 404, want 200, 3xx or 500-502"},
		{"/404", []any{"404"}, fanout.StateOK, fanout.ReasonNone, false, ""},
		{"/200", []any{int64(404), "3xx"}, fanout.StateFail, fanout.ReasonHTTPStatus, false, "status 200, want 404 or 3xx"},
		{"/404", nil, fanout.StateFail, fanout.ReasonHTTPStatus, false, "status 404, want 2xx or 3xx"},
		{"/404", []any{}, fanout.StateFail, fanout.ReasonHTTPStatus, false, "status 404, want 2xx or 3xx"},
		// Throttles stay throttles unless the code itself is expected.
		{"/429", []any{"4xx"}, fanout.StateFail, fanout.ReasonRateLimited, false, "status 429, throttled (no retry-after)"},
		{"/429", []any{429}, fanout.StateOK, fanout.ReasonNone, false, ""},
		{"/503?retry-after=2", []any{"5xx"}, fanout.StateFail, fanout.ReasonRateLimited, false, "status 503, throttled (retry after 2s)"},
		{"/503?retry-after=2", []any{503}, fanout.StateOK, fanout.ReasonNone, false, ""},
		{"/503", []any{"5xx"}, fanout.StateOK, fanout.ReasonNone, false, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.path, tt.status), func(t *testing.T) {
			o := run(t, buildHTTP(t, base+tt.path, probe.HTTPSpec{Status: tt.status}), env, 5*time.Second)
			o.want(t, tt.state, tt.reason)
			if tt.state == fanout.StateOK {
				return
			}
			if o.err.Error() != tt.errText {
				t.Errorf("error %q, want %q", o.err, tt.errText)
			}
			if tt.reason == fanout.ReasonHTTPStatus {
				checkFlags(t, o.err, tt.state, tt.reason, false, tt.retryable, 0, 0)
			}
			if _, ok := o.detail["failed_conditions"]; ok {
				t.Errorf("failed_conditions for a status failure: %v", o.detail)
			}
		})
	}
}

// jsonServer answers /json with a nested document, /html with a page,
// /slow after 150ms, and /big with 5000 bytes of JSON.
func jsonServer(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/json", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"status": "UP", "ready": true, "version": "v1.12.3",
			"checks": [{"name": "db", "latency_ms": 12.5}, {"name": "cache", "latency_ms": 3}],
			"replicas": ["a", "b", "c"], "build": null, "key with space": 1}`)
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "<html>ready: true</html>")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep(150 * time.Millisecond)
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"pad": "`+strings.Repeat("x", 5000)+`"}`)
	})
	return newServer(t, mux).URL
}

func TestHTTPConditions(t *testing.T) {
	base := jsonServer(t)
	env := newEnv(t, probe.Options{})
	tests := []struct {
		name string
		path string
		spec probe.HTTPSpec
		// failed lists the failed conditions; none means ok.
		failed []string
	}{
		{"body_contains", "/json", probe.HTTPSpec{BodyContains: `"UP"`}, nil},
		{"body_contains fails", "/json", probe.HTTPSpec{BodyContains: "DOWN"}, []string{`body lacks "DOWN"`}},
		{"body_regex", "/html", probe.HTTPSpec{BodyRegex: `ready: (true|yes)`}, nil},
		{"body_regex fails", "/html", probe.HTTPSpec{BodyRegex: `ready: false`}, []string{`body does not match /ready: false/`}},
		{"json", "/json", probe.HTTPSpec{JSON: []string{
			`$.status == "UP"`, `$.ready == true`, `$.checks[0].name == "db"`, `$.checks[1].latency_ms < 10`,
			`$.checks[0].latency_ms >= 12.5`, `len($.replicas) >= 2`, `len($.checks) == 2`, `$.build == null`,
			`$.build exists`, `$["key with space"] == 1`, `$.version matches "^v1\\.\\d+"`, `$.status != "DOWN"`,
			`$.version > "v1.1"`,
		}}, nil},
		{"json fails", "/json", probe.HTTPSpec{JSON: []string{
			`$.status == "DOWN"`, `$.ready == "true"`, `$.checks[2].name == "x"`, `$.missing exists`,
			`len($.replicas) > 3`, `$.status < 3`, `$.version matches "^v2"`, `$.checks.name == "db"`,
		}}, []string{
			`json: $.status == "DOWN": got "UP"`,
			`json: $.ready == "true": got true`,
			`json: $.checks[2].name == "x": $.checks[2] is missing (array of 2)`,
			`json: $.missing exists: $.missing is missing`,
			`json: len($.replicas) > 3: got 3`,
			`json: $.status < 3: got "UP" (string), not a number`,
			`json: $.version matches "^v2": got "v1.12.3"`,
			`json: $.checks.name == "db": $.checks is an array, not an object`,
		}},
		{"not json", "/html", probe.HTTPSpec{JSON: []string{`$.status == "UP"`, `$ exists`}}, []string{
			`json: $.status == "UP": body is not JSON: invalid character '<' looking for beginning of value`,
			`json: $ exists: body is not JSON: invalid character '<' looking for beginning of value`,
		}},
		{"all kinds fail", "/html", probe.HTTPSpec{
			BodyContains: "UP", BodyRegex: "^x", JSON: []string{`$.a exists`},
			MaxLatency: time.Nanosecond,
		}, []string{
			`body lacks "UP"`, `body does not match /^x/`,
			`json: $.a exists: body is not JSON: invalid character '<' looking for beginning of value`,
			"latency", // checked by prefix below
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run(t, buildHTTP(t, base+tt.path, tt.spec), env, 5*time.Second)
			if tt.failed == nil {
				o.want(t, fanout.StateOK, fanout.ReasonNone)
				if _, ok := o.detail["failed_conditions"]; ok {
					t.Errorf("failed_conditions on success: %v", o.detail)
				}
				return
			}
			o.want(t, fanout.StateFail, fanout.ReasonCondition)
			got, _ := o.detail["failed_conditions"].([]string)
			if len(got) != len(tt.failed) {
				t.Fatalf("failed_conditions %q, want %q", got, tt.failed)
			}
			for i := range got {
				if got[i] != tt.failed[i] && !(tt.failed[i] == "latency" && strings.HasPrefix(got[i], "latency ")) {
					t.Errorf("failed_conditions[%d] = %q, want %q", i, got[i], tt.failed[i])
				}
			}
			want := got[0]
			if len(got) > 1 {
				want += fmt.Sprintf(" (and %d more)", len(got)-1)
			}
			if o.err.Error() != want {
				t.Errorf("error %q, want %q", o.err, want)
			}
		})
	}
}

func TestHTTPJSONOfTruncatedBody(t *testing.T) {
	base := jsonServer(t)
	env := newEnv(t, probe.Options{BodyCap: 1000})
	o := run(t, buildHTTP(t, base+"/big", probe.HTTPSpec{JSON: []string{`$.pad exists`}}), env, 5*time.Second)
	o.want(t, fanout.StateFail, fanout.ReasonCondition)
	want := "json: $.pad exists: body is not JSON: unexpected EOF (the body was cut at 1000 bytes)"
	if o.err.Error() != want || o.detail["body_truncated"] != true {
		t.Errorf("error %q, body_truncated %v; want %q, true", o.err, o.detail["body_truncated"], want)
	}
}

func TestHTTPMaxLatency(t *testing.T) {
	base := jsonServer(t)
	env := newEnv(t, probe.Options{})
	o := run(t, buildHTTP(t, base+"/slow", probe.HTTPSpec{MaxLatency: 50 * time.Millisecond}), env, 5*time.Second)
	o.want(t, fanout.StateFail, fanout.ReasonCondition)
	// "latency 151ms, want ≤ 50ms": the time to the last byte, not to the
	// headers.
	var ms int
	if _, err := fmt.Sscanf(o.err.Error(), "latency %dms, want ≤ 50ms", &ms); err != nil || ms < 150 {
		t.Errorf("error %q, want latency ≥ 150ms, want ≤ 50ms", o.err)
	}
	run(t, buildHTTP(t, base+"/slow", probe.HTTPSpec{MaxLatency: 5 * time.Second}), env, 5*time.Second).
		want(t, fanout.StateOK, fanout.ReasonNone)
}

// redirectServer answers /hop/{n} with a redirect to /hop/{n-1}, and
// /hop/0 with 200 and the X-Api-Key it got. /away redirects to other.
func redirectServer(t *testing.T, other string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			io.WriteString(w, "key="+r.Header.Get("X-Api-Key"))
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other+"/hop/0", http.StatusFound)
	})
	return newServer(t, mux), &requests
}

func TestHTTPFollowRedirects(t *testing.T) {
	srv, requests := redirectServer(t, "")
	env := newEnv(t, probe.Options{})
	follow := probe.HTTPSpec{FollowRedirects: true}
	tests := []struct {
		name      string
		hops      int
		spec      probe.HTTPSpec
		state     fanout.State
		reason    fanout.Reason
		status    int
		redirects any
		errText   string
	}{
		{"not followed by default", 3, probe.HTTPSpec{}, fanout.StateOK, fanout.ReasonNone, 302, nil, ""},
		{"3 hops", 3, follow, fanout.StateOK, fanout.ReasonNone, 200, 3, ""},
		{"10 hops", 10, follow, fanout.StateOK, fanout.ReasonNone, 200, 10, ""},
		{"11 hops", 11, follow, fanout.StateFail, fanout.ReasonHTTPStatus, 302, 10,
			"too many redirects: more than 10 (last status 302)"},
		{"3 hops, 200 expected", 3, probe.HTTPSpec{FollowRedirects: true, Status: []any{200}},
			fanout.StateOK, fanout.ReasonNone, 200, 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requests.Store(0)
			o := run(t, buildHTTP(t, fmt.Sprintf("%s/hop/%d", srv.URL, tt.hops), tt.spec), env, 5*time.Second)
			o.want(t, tt.state, tt.reason)
			if tt.errText != "" && o.err.Error() != tt.errText {
				t.Errorf("error %q, want %q", o.err, tt.errText)
			}
			if o.detail["status_code"] != tt.status || o.detail["redirects"] != tt.redirects {
				t.Errorf("status_code %v redirects %v, want %d %v", o.detail["status_code"], o.detail["redirects"], tt.status, tt.redirects)
			}
			if want := min(tt.hops, 10) + 1; tt.spec.FollowRedirects && requests.Load() != int64(want) {
				t.Errorf("server got %d requests, want %d", requests.Load(), want)
			}
		})
	}
}

// TestHTTPRedirectDropsSecretHeaders checks that a header marked secret is
// sent on a redirect to the same host only.
func TestHTTPRedirectDropsSecretHeaders(t *testing.T) {
	seen := make(chan string, 1)
	other := newServer(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("X-Api-Key") + "|" + r.Header.Get("X-Plain")
	}))
	srv, _ := redirectServer(t, other.URL)
	env := newEnv(t, probe.Options{})
	spec := probe.HTTPSpec{
		FollowRedirects: true,
		Headers:         map[string]string{"X-Api-Key": "s3cret", "X-Plain": "p"},
		SecretHeaders:   []string{"x-api-key"},
	}
	o := run(t, buildHTTP(t, srv.URL+"/away", spec), env, 5*time.Second)
	o.want(t, fanout.StateOK, fanout.ReasonNone)
	if got := <-seen; got != "|p" {
		t.Errorf("the other host got X-Api-Key|X-Plain = %q, want %q", got, "|p")
	}
	// The same host gets it: /hop/0 answers with the key it got.
	spec.BodyContains = "key=s3cret"
	run(t, buildHTTP(t, srv.URL+"/hop/2", spec), env, 5*time.Second).want(t, fanout.StateOK, fanout.ReasonNone)
}

func TestHTTPRequestOptions(t *testing.T) {
	type seen struct {
		method, host, body, auth, apiKey, ua, contentType string
	}
	got := make(chan seen, 1)
	srv := newServer(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.Host, string(b), r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"),
			r.UserAgent(), r.Header.Get("Content-Type")}
	}))
	hostPort := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name    string
		spec    probe.HTTPSpec
		want    seen
		secrets []string
	}{
		{"zero", probe.HTTPSpec{}, seen{"GET", hostPort, "", "", "", "fanout/dev", ""}, nil},
		{"post with body and headers", probe.HTTPSpec{
			Method: "POST", Body: `{"q": 1}`,
			Headers:       map[string]string{"Content-Type": "application/json", "x-api-key": "k3y", "User-Agent": "mine/1"},
			SecretHeaders: []string{"X-API-KEY"},
		}, seen{"POST", hostPort, `{"q": 1}`, "", "k3y", "mine/1", "application/json"}, []string{"k3y"}},
		{"host override", probe.HTTPSpec{Host: "api.example"},
			seen{"GET", "api.example", "", "", "", "fanout/dev", ""}, nil},
		{"basic auth", probe.HTTPSpec{BasicAuth: &probe.BasicAuth{Username: "ops", Password: "pa55"}},
			seen{"GET", hostPort, "", "Basic b3BzOnBhNTU=", "", "fanout/dev", ""}, []string{"pa55"}},
		{"bearer token", probe.HTTPSpec{BearerToken: "t0ken"},
			seen{"GET", hostPort, "", "Bearer t0ken", "", "fanout/dev", ""}, []string{"t0ken"}},
		{"authorization header", probe.HTTPSpec{Headers: map[string]string{"authorization": "Token abc123", "Cookie": "sid=42"}},
			seen{"GET", hostPort, "", "Token abc123", "", "fanout/dev", ""}, []string{"Token abc123", "abc123", "sid=42"}},
	}
	env := newEnv(t, probe.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, buildHTTP(t, srv.URL, tt.spec), env, 5*time.Second).want(t, fanout.StateOK, fanout.ReasonNone)
			if s := <-got; s != tt.want {
				t.Errorf("server saw %+v, want %+v", s, tt.want)
			}
			want := slices.Clone(tt.secrets)
			slices.Sort(want)
			if s := tt.spec.Secrets(); !slices.Equal(s, want) {
				t.Errorf("Secrets() = %q, want %q", s, want)
			}
		})
	}
}

// TestHTTPZeroSpec checks that a check built from a zero spec is the one a
// bare URL gives, and behaves as a bare HTTP value does.
func TestHTTPZeroSpec(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }))
	fromSpec := buildHTTP(t, srv.URL+"/x", probe.HTTPSpec{})
	fromURL := mustCheck(t, srv.URL+"/x")
	if !reflect.DeepEqual(fromSpec, fromURL) {
		t.Errorf("zero spec gives %#v, a bare URL %#v", fromSpec, fromURL)
	}
	bare := &probe.HTTP{URL: mustURL(t, srv.URL+"/x")}
	if fromSpec.Host() != bare.Host() || fromSpec.Kind() != bare.Kind() {
		t.Errorf("host %q kind %q, bare %q %q", fromSpec.Host(), fromSpec.Kind(), bare.Host(), bare.Kind())
	}
	env := newEnv(t, probe.Options{})
	a, b := run(t, fromSpec, env, 5*time.Second), run(t, bare, env, 5*time.Second)
	a.want(t, fanout.StateOK, fanout.ReasonNone)
	b.want(t, fanout.StateOK, fanout.ReasonNone)
	if a.detail["bytes"] != b.detail["bytes"] || b.detail["conn_reused"] != true {
		t.Errorf("details %v and %v: want the same bytes and the second on the first's connection", a.detail, b.detail)
	}
	if fmt.Sprint(keys(a.detail)) != fmt.Sprint(keys(b.detail)) {
		t.Errorf("detail keys %v and %v differ", keys(a.detail), keys(b.detail))
	}
}

func keys(d probe.Detail) []string {
	var k []string
	for key := range d {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}

func TestHTTPHostOverrideKey(t *testing.T) {
	tests := []struct {
		url, host, key string
	}{
		{"https://10.0.0.5/", "API.example", "api.example:443"},
		{"http://10.0.0.5:8080/", "api.example:9999", "api.example:8080"},
		{"http://10.0.0.5/", "[::1]:80", "[::1]:80"},
		{"http://10.0.0.5/", "", "10.0.0.5:80"},
	}
	for _, tt := range tests {
		c := buildHTTP(t, tt.url, probe.HTTPSpec{Host: tt.host})
		if c.Host() != tt.key {
			t.Errorf("%s with host %q: Host() = %q, want %q", tt.url, tt.host, c.Host(), tt.key)
		}
	}
}
