package kindfarm_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/fanout-dev/fanout/internal/kindfarm"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start starts a farm that the test's end closes.
func start(t *testing.T) *kindfarm.Farm {
	t.Helper()
	f, err := kindfarm.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	return f
}

// caPool reads the farm's CA file.
func caPool(t *testing.T, f *kindfarm.Farm) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(f.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in the CA file")
	}
	return pool
}

// get sends one request with client and returns the status and body.
func get(t *testing.T, client *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func newRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestEnv(t *testing.T) {
	f := start(t)
	env := f.Env()
	want := map[string]string{
		"FANOUT_FARM_HTTP": f.HTTP, "FANOUT_FARM_TLS": f.TLS, "FANOUT_FARM_TLS_EXPIRED": f.TLSExpired,
		"FANOUT_FARM_CA": f.CAFile, "FANOUT_FARM_TOKEN": f.Token, "FANOUT_FARM_TCP": f.TCP,
		"FANOUT_FARM_REDIS": f.Redis, "FANOUT_FARM_DNS": f.DNS, "FANOUT_FARM_GRPC": f.GRPC,
		"FANOUT_FARM_GRPC_TLS": f.GRPCTLS,
	}
	if len(env) != len(want) {
		t.Errorf("Env has %d variables, want %d: %v", len(env), len(want), env)
	}
	addrs := map[string]bool{}
	for name, v := range want {
		if v == "" || env[name] != v {
			t.Errorf("%s = %q, want %q (non-empty)", name, env[name], v)
		}
		if strings.HasPrefix(v, "127.0.0.1:") {
			if addrs[v] {
				t.Errorf("%s: address %s used twice", name, v)
			}
			addrs[v] = true
		}
	}
	if len(addrs) != 8 {
		t.Errorf("%d loopback addresses, want 8", len(addrs))
	}
	if _, err := os.Stat(f.CAFile); err != nil {
		t.Errorf("CA file: %v", err)
	}
}

func TestHTTP(t *testing.T) {
	f := start(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(client.CloseIdleConnections)
	base := "http://" + f.HTTP
	bearer := newRequest(t, "GET", base+"/private", "")
	bearer.Header.Set("Authorization", "Bearer "+f.Token)
	basic := newRequest(t, "GET", base+"/private", "")
	basic.SetBasicAuth(kindfarm.BasicUser, f.Token)
	wrong := newRequest(t, "GET", base+"/private", "")
	wrong.Header.Set("Authorization", "Bearer nope")
	vhost := newRequest(t, "GET", base+"/vhost", "")
	vhost.Host = kindfarm.VHost
	echo := newRequest(t, "POST", base+"/echo", `{"a":1}`)
	echo.Header.Set("X-Farm-Echo", "hi")
	cases := []struct {
		name   string
		req    *http.Request
		status int
		body   string
	}{
		{"healthz", newRequest(t, "GET", base+"/healthz", ""), 200, kindfarm.HealthzBody},
		{"status", newRequest(t, "GET", base+"/status", ""), 200, kindfarm.StatusBody},
		{"fail", newRequest(t, "GET", base+"/fail", ""), 503, kindfarm.FailBody},
		{"text", newRequest(t, "GET", base+"/text", ""), 200, kindfarm.TextBody},
		{"slow", newRequest(t, "GET", base+"/slow?ms=20", ""), 200, "slow\n"},
		{"bearer", bearer, 200, `{"status":"UP"}`},
		{"basic", basic, 200, `{"status":"UP"}`},
		{"wrong token", wrong, 401, `{"error":"unauthorized"}`},
		{"no token", newRequest(t, "GET", base+"/private", ""), 401, `{"error":"unauthorized"}`},
		{"vhost", vhost, 200, `{"status":"UP"}`},
		{"no vhost", newRequest(t, "GET", base+"/vhost", ""), 404, ""},
		{"echo", echo, 200, `{"body":"{\"a\":1}","header":"hi","method":"POST"}`},
		{"unknown", newRequest(t, "GET", base+"/nope", ""), 404, ""},
	}
	for _, tc := range cases {
		status, body := get(t, client, tc.req)
		if status != tc.status || tc.body != "" && body != tc.body {
			t.Errorf("%s: %d %q, want %d %q", tc.name, status, body, tc.status, tc.body)
		}
	}
	for path, loc := range map[string]string{"/redirect": "/healthz", "/loop": "/loop"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 302 || resp.Header.Get("Location") != loc {
			t.Errorf("%s: %d to %q, want 302 to %s", path, resp.StatusCode, resp.Header.Get("Location"), loc)
		}
	}
	start := time.Now()
	if status, _ := get(t, client, newRequest(t, "GET", base+"/slow", "")); status != 200 || time.Since(start) < kindfarm.SlowDelay {
		t.Errorf("/slow: %d after %s, want 200 after at least %s", status, time.Since(start), kindfarm.SlowDelay)
	}
}

func TestTLS(t *testing.T) {
	f := start(t)
	pool := caPool(t, f)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	if status, body := get(t, client, newRequest(t, "GET", "https://"+f.TLS+"/healthz", "")); status != 200 || body != kindfarm.HealthzBody {
		t.Errorf("https /healthz: %d %q", status, body)
	}

	// The certificate verifies for each of its names and expires in
	// ValidFor; the CA lives longer.
	for _, name := range []string{"127.0.0.1", "localhost", "tls.farm.test"} {
		conn, err := tls.Dial("tcp", f.TLS, &tls.Config{RootCAs: pool, ServerName: name})
		if err != nil {
			t.Fatalf("handshake as %s: %v", name, err)
		}
		cs := conn.ConnectionState()
		conn.Close()
		leaf := cs.PeerCertificates[0]
		if left := time.Until(leaf.NotAfter); left < kindfarm.ValidFor-time.Hour || left > kindfarm.ValidFor {
			t.Errorf("certificate expires in %s, want about %s", left, kindfarm.ValidFor)
		}
		ca := cs.VerifiedChains[0][len(cs.VerifiedChains[0])-1]
		if !ca.NotAfter.After(leaf.NotAfter) {
			t.Errorf("the CA expires before the leaf (%s ≤ %s)", ca.NotAfter, leaf.NotAfter)
		}
	}
	if conn, err := tls.Dial("tcp", f.TLS, &tls.Config{RootCAs: pool, ServerName: "wrong.farm.test"}); err == nil {
		conn.Close()
		t.Error("a handshake for wrong.farm.test verified")
	}

	// The expired one fails verification, and has expired ExpiredFor ago.
	var verr *tls.CertificateVerificationError
	if conn, err := tls.Dial("tcp", f.TLSExpired, &tls.Config{RootCAs: pool}); !errors.As(err, &verr) || !strings.Contains(err.Error(), "expired") {
		if conn != nil {
			conn.Close()
		}
		t.Fatalf("expired certificate: %v, want a verification error", err)
	}
	conn, err := tls.Dial("tcp", f.TLSExpired, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	leaf := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	if ago := time.Since(leaf.NotAfter); ago < kindfarm.ExpiredFor || ago > kindfarm.ExpiredFor+time.Hour {
		t.Errorf("expired certificate: expired %s ago, want about %s", ago, kindfarm.ExpiredFor)
	}
}

func TestTCPBanner(t *testing.T) {
	f := start(t)
	conn, err := net.Dial("tcp", f.TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(conn) // the service closes its side after the banner
	if err != nil || string(b) != kindfarm.Banner+"\r\n" {
		t.Errorf("banner %q, %v; want %q then EOF", b, err, kindfarm.Banner+"\r\n")
	}
}

func TestRedis(t *testing.T) {
	f := start(t)
	conn, err := net.Dial("tcp", f.Redis)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	for _, tc := range []struct{ send, want string }{
		{"PING\r\n", "+PONG\r\n"},
		{"ping\n", "+PONG\r\n"},
		{"GET x\r\n", "-ERR unknown command 'GET'\r\n"},
		{"QUIT\r\n", "+OK\r\n"},
	} {
		if _, err := io.WriteString(conn, tc.send); err != nil {
			t.Fatal(err)
		}
		if got, err := r.ReadString('\n'); got != tc.want {
			t.Errorf("%q: got %q (%v), want %q", tc.send, got, err, tc.want)
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Errorf("after QUIT: %v, want EOF", err)
	}
}

func TestDNS(t *testing.T) {
	f := start(t)
	cases := []struct {
		name  string
		qtype uint16
		rcode int
		want  []string // the answers' data, in order
	}{
		{"api.farm.test.", dns.TypeA, dns.RcodeSuccess, []string{"127.0.0.1"}},
		{"API.Farm.Test.", dns.TypeAAAA, dns.RcodeSuccess, []string{"::1"}},
		{"farm.test.", dns.TypeMX, dns.RcodeSuccess, []string{"10 mx1.farm.test.", "20 mx2.farm.test."}},
		{"farm.test.", dns.TypeTXT, dns.RcodeSuccess, []string{`"v=spf1 mx -all"`}},
		{"txt.farm.test.", dns.TypeTXT, dns.RcodeSuccess, []string{`"chunk one, " "chunk two"`}},
		{"_api._tcp.farm.test.", dns.TypeSRV, dns.RcodeSuccess, []string{"10 5 8443 api.farm.test."}},
		{"www.farm.test.", dns.TypeCNAME, dns.RcodeSuccess, []string{"api.farm.test."}},
		{"www.farm.test.", dns.TypeA, dns.RcodeSuccess, []string{"api.farm.test.", "127.0.0.1"}},
		{"farm.test.", dns.TypeCAA, dns.RcodeSuccess, []string{`0 issue "letsencrypt.org"`, `0 iodef "mailto:security@farm.test"`}},
		{"farm.test.", dns.TypeSOA, dns.RcodeSuccess, []string{"ns1.farm.test. hostmaster.farm.test. 2026010101 7200 3600 1209600 300"}},
		{"farm.test.", dns.TypeNS, dns.RcodeSuccess, []string{"ns1.farm.test.", "ns2.farm.test."}},
		{"api.farm.test.", dns.TypeTXT, dns.RcodeSuccess, nil},
		{"nope.farm.test.", dns.TypeA, dns.RcodeNameError, nil},
		{"example.org.", dns.TypeA, dns.RcodeNameError, nil},
		{"fail.farm.test.", dns.TypeA, dns.RcodeServerFailure, nil},
	}
	for _, network := range []string{"udp", "tcp"} {
		client := &dns.Client{Net: network, Timeout: 5 * time.Second}
		for _, tc := range cases {
			m := new(dns.Msg)
			m.SetQuestion(tc.name, tc.qtype)
			r, _, err := client.Exchange(m, f.DNS)
			if err != nil {
				t.Fatalf("%s %s %s: %v", network, tc.name, dns.TypeToString[tc.qtype], err)
			}
			var got []string
			for _, rr := range r.Answer {
				got = append(got, strings.TrimPrefix(rr.String(), rr.Header().String()))
			}
			if r.Rcode != tc.rcode || !slices.Equal(got, tc.want) {
				t.Errorf("%s %s %s: %s %q, want %s %q", network, tc.name, dns.TypeToString[tc.qtype],
					dns.RcodeToString[r.Rcode], got, dns.RcodeToString[tc.rcode], tc.want)
			}
		}
	}
}

func TestGRPC(t *testing.T) {
	f := start(t)
	creds := map[string]credentials.TransportCredentials{
		f.GRPC:    insecure.NewCredentials(),
		f.GRPCTLS: credentials.NewTLS(&tls.Config{RootCAs: caPool(t, f)}),
	}
	for addr, cred := range creds {
		conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(cred))
		if err != nil {
			t.Fatal(err)
		}
		client := healthpb.NewHealthClient(conn)
		for _, tc := range []struct {
			service string
			want    healthpb.HealthCheckResponse_ServingStatus
			code    codes.Code
		}{
			{"", healthpb.HealthCheckResponse_SERVING, codes.OK},
			{kindfarm.GRPCServing, healthpb.HealthCheckResponse_SERVING, codes.OK},
			{kindfarm.GRPCNotServing, healthpb.HealthCheckResponse_NOT_SERVING, codes.OK},
			{"farm.Nope", healthpb.HealthCheckResponse_UNKNOWN, codes.NotFound},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: tc.service})
			cancel()
			if status.Code(err) != tc.code || resp.GetStatus() != tc.want {
				t.Errorf("%s %q: %v %v, want %v %v", addr, tc.service, resp.GetStatus(), err, tc.want, tc.code)
			}
		}
		conn.Close()
	}
}

// TestCloseEndsEverything closes a farm with a request waiting on /slow
// and idle connections open to the line services: Close must end them
// and return at once, and every service then refuses connections. goleak
// (TestMain) checks that nothing is left running.
func TestCloseEndsEverything(t *testing.T) {
	f, err := kindfarm.Start()
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	slow := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Transport: tr}).Get("http://" + f.HTTP + "/slow?ms=10000")
		if err == nil {
			resp.Body.Close()
		}
		slow <- err
	}()
	var idle []net.Conn
	for _, addr := range []string{f.Redis, f.TCP} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	time.Sleep(50 * time.Millisecond) // let the request reach its handler
	begin := time.Now()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 2*time.Second {
		t.Errorf("Close took %s", took)
	}
	if err := <-slow; err == nil {
		t.Error("the request to /slow was answered after Close")
	}
	for _, c := range idle {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadAll(c); err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
			t.Errorf("idle connection after Close: %v, want it closed", err)
		}
	}
	for name, addr := range f.Env() {
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			continue
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s (%s) still accepts connections after Close", name, addr)
		}
	}
	if _, err := os.Stat(f.CAFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CA file after Close: %v, want it removed", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}
