package probe_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/fanout-dev/fanout"
	"github.com/fanout-dev/fanout/probe"
)

// testZone is what the test DNS server knows. Besides it, fail.test
// answers SERVFAIL, big.test answers over UDP truncated (TC set, no
// records) and in full over TCP, and any other name NXDOMAIN.
const testZone = `
a.test.      300 IN A     192.0.2.1
a.test.      300 IN A     192.0.2.2
a.test.      300 IN AAAA  2001:db8::1
cname.test.  300 IN CNAME Target.Test.
mx.test.     300 IN MX    10 mx1.test.
mx.test.     300 IN MX    20 MX2.Test.
txt.test.    300 IN TXT   "v=spf1 " "-all"
txt.test.    300 IN TXT   "Hello"
ns.test.     300 IN NS    ns1.test.
ns.test.     300 IN NS    ns2.test.
_svc._tcp.test. 300 IN SRV 10 5 443 host.test.
soa.test.    300 IN SOA   ns1.test. hostmaster.test. 2026010101 7200 3600 1209600 300
caa.test.    300 IN CAA   0 issue "letsencrypt.org"
1.2.0.192.in-addr.arpa. 300 IN PTR a.test.
empty.test.  300 IN TXT   "only a TXT record"
`

// dnsTestServer is an in-process DNS server on one loopback port, over
// UDP and TCP.
type dnsTestServer struct {
	addr     string
	udp, tcp atomic.Int64 // queries received
}

// newDNSServer serves testZone on 127.0.0.1 until the test ends.
func newDNSServer(t *testing.T) *dnsTestServer {
	t.Helper()
	zone := map[string]map[uint16][]dns.RR{}
	add := func(rr dns.RR) {
		name := strings.ToLower(rr.Header().Name)
		if zone[name] == nil {
			zone[name] = map[uint16][]dns.RR{}
		}
		zone[name][rr.Header().Rrtype] = append(zone[name][rr.Header().Rrtype], rr)
	}
	zp := dns.NewZoneParser(strings.NewReader(testZone), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		add(rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 20; i++ {
		add(&dns.A{Hdr: dns.RR_Header{Name: "big.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
			A: net.IPv4(198, 51, 100, byte(i))})
	}

	s := &dnsTestServer{}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		tcp := w.LocalAddr().Network() == "tcp"
		if tcp {
			s.tcp.Add(1)
		} else {
			s.udp.Add(1)
		}
		m := new(dns.Msg)
		m.SetReply(r)
		// Go's resolver takes an answer without records and without
		// these bits for a lame referral.
		m.Authoritative, m.RecursionAvailable = true, true
		q := r.Question[0]
		name := strings.ToLower(q.Name)
		switch {
		case name == "fail.test.":
			m.Rcode = dns.RcodeServerFailure
		case name == "big.test." && !tcp:
			m.Truncated = true
		case zone[name] == nil:
			m.Rcode = dns.RcodeNameError
		default:
			m.Answer = zone[name][q.Qtype]
		}
		_ = w.WriteMsg(m)
	})
	pc, ln := udpAndTCP(t)
	s.addr = pc.LocalAddr().String()
	servers := []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}}
	var wg sync.WaitGroup
	for _, srv := range servers {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		wg.Go(func() {
			if err := srv.ActivateAndServe(); err != nil {
				t.Errorf("dns server: %v", err)
			}
		})
		<-started
	}
	t.Cleanup(func() {
		for _, srv := range servers {
			if err := srv.Shutdown(); err != nil {
				t.Errorf("dns server shutdown: %v", err)
			}
		}
		wg.Wait()
	})
	return s
}

// udpAndTCP listens on one loopback port over UDP and TCP.
func udpAndTCP(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close() // the TCP port is taken: try another
	}
	t.Fatal("no loopback port free over both UDP and TCP")
	return nil, nil
}

// silentUDP returns a loopback UDP address that takes queries and never
// answers.
func silentUDP(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// deadUDP returns a loopback UDP address nothing listens on.
func deadUDP(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// resolverTo returns a Go resolver that sends every query to addr.
func resolverTo(addr string) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

// dnsCase is one lookup and what it should come to.
type dnsCase struct {
	name    string
	url     string // "%s" stands for the server's address
	spec    probe.DNSSpec
	state   fanout.State
	reason  fanout.Reason
	err     string   // the error's text, or its start followed by "…"
	answers []string // the detail's answers, when the lookup got some
	rcode   string   // the detail's rcode ("" means NOERROR)
}

// runDNS runs each case against env, expecting the detail's server to be
// server ("%s": the address of srv). resolvConf, if set, is the
// resolv.conf of the checks.
func runDNS(t *testing.T, srv *dnsTestServer, env *probe.Env, server, resolvConf string, tests []dnsCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.url
			if strings.Contains(raw, "%s") {
				raw = fmt.Sprintf(raw, srv.addr)
			}
			c := buildKind(t, &tt.spec, raw)
			if resolvConf != "" {
				probe.SetResolvConf(c, resolvConf)
			}
			o := run(t, c, env, 5*time.Second)
			o.want(t, tt.state, tt.reason)
			if tt.state != fanout.StateOK {
				wantErrText(t, o.err, tt.err)
			}
			rcode := tt.rcode
			if rcode == "" {
				rcode = "NOERROR"
			}
			got, _ := o.detail["answers"].([]string)
			if o.detail["rcode"] != rcode || !slices.Equal(got, tt.answers) && (len(got) > 0 || len(tt.answers) > 0) {
				t.Errorf("rcode %v answers %q, want %s %q", o.detail["rcode"], o.detail["answers"], rcode, tt.answers)
			}
			if want := strings.ReplaceAll(server, "%s", srv.addr); o.detail["server"] != want {
				t.Errorf("server %v, want %s", o.detail["server"], want)
			}
			if ms, ok := o.detail["rtt_ms"].(float64); !ok || ms < 0 {
				t.Errorf("rtt_ms %#v", o.detail["rtt_ms"])
			}
			if _, ok := o.detail["truncated_retry"]; ok {
				t.Errorf("truncated_retry in %v", o.detail)
			}
		})
	}
}

func TestDNSRecords(t *testing.T) {
	srv := newDNSServer(t)
	env := newEnv(t, probe.Options{})
	ok := fanout.StateOK
	fail, condition := fanout.StateFail, fanout.ReasonCondition
	tests := []dnsCase{
		{name: "A default", url: "dns://a.test?server=%s", state: ok, answers: []string{"192.0.2.1", "192.0.2.2"}},
		{name: "A expect", url: "dns://A.Test.?server=%s", spec: probe.DNSSpec{Expect: []string{"192.0.2.2", "192.0.2.1"}},
			state: ok, answers: []string{"192.0.2.1", "192.0.2.2"}},
		{name: "A expect differs", url: "dns://a.test?server=%s", spec: probe.DNSSpec{Expect: []string{"192.0.2.1", "192.0.2.9"}},
			state: fail, reason: condition, answers: []string{"192.0.2.1", "192.0.2.2"},
			err: `answers ["192.0.2.1" "192.0.2.2"], want ["192.0.2.1" "192.0.2.9"]`},
		{name: "AAAA", url: "dns://a.test?type=aaaa&server=%s", spec: probe.DNSSpec{Expect: []string{"2001:DB8:0::1"}},
			state: ok, answers: []string{"2001:db8::1"}},
		{name: "CNAME", url: "dns://cname.test?type=CNAME&server=%s", spec: probe.DNSSpec{Expect: []string{"TARGET.test."}},
			state: ok, answers: []string{"target.test"}},
		{name: "MX", url: "dns://mx.test?server=%s", spec: probe.DNSSpec{Type: "MX", Expect: []string{"20 mx2.test.", "10 MX1.test"}},
			state: ok, answers: []string{"10 mx1.test", "20 mx2.test"}},
		{name: "MX differs", url: "dns://mx.test?server=%s", spec: probe.DNSSpec{Type: "MX", Expect: []string{"10 mx1.test"}},
			state: fail, reason: condition, answers: []string{"10 mx1.test", "20 mx2.test"},
			err: `answers ["10 mx1.test" "20 mx2.test"], want ["10 mx1.test"]`},
		{name: "TXT chunks joined", url: "dns://txt.test?type=TXT&server=%s", spec: probe.DNSSpec{Expect: []string{"v=spf1 -all", "HELLO"}},
			state: ok, answers: []string{"Hello", "v=spf1 -all"}},
		{name: "NS", url: "dns://ns.test?type=NS&server=%s", spec: probe.DNSSpec{Expect: []string{"ns2.test", "ns1.test."}},
			state: ok, answers: []string{"ns1.test", "ns2.test"}},
		{name: "SRV", url: "dns://_svc._tcp.test?type=SRV&server=%s", spec: probe.DNSSpec{Expect: []string{"10 5 443 Host.Test."}},
			state: ok, answers: []string{"10 5 443 host.test"}},
		{name: "SOA", url: "dns://soa.test?type=SOA&server=%s",
			spec:  probe.DNSSpec{Expect: []string{"ns1.test. hostmaster.test. 2026010101 7200 3600 1209600 300"}},
			state: ok, answers: []string{"ns1.test hostmaster.test 2026010101 7200 3600 1209600 300"}},
		{name: "CAA", url: "dns://caa.test?type=CAA&server=%s", spec: probe.DNSSpec{Expect: []string{"0 issue letsencrypt.org"}},
			state: ok, answers: []string{`0 issue "letsencrypt.org"`}},
		{name: "PTR of an address", url: "dns://192.0.2.1?type=PTR&server=%s", spec: probe.DNSSpec{Expect: []string{"a.test"}},
			state: ok, answers: []string{"a.test"}},
		{name: "PTR of a name", url: "dns://1.2.0.192.in-addr.arpa?type=PTR&server=%s", state: ok, answers: []string{"a.test"}},
		{name: "NXDOMAIN", url: "dns://nothing.test?server=%s", state: fail, reason: condition, rcode: "NXDOMAIN",
			err: "rcode NXDOMAIN, want NOERROR"},
		{name: "NXDOMAIN wanted", url: "dns://nothing.test?server=%s", spec: probe.DNSSpec{Rcode: "nxdomain"}, state: ok, rcode: "NXDOMAIN"},
		{name: "NOERROR when NXDOMAIN wanted", url: "dns://a.test?server=%s", spec: probe.DNSSpec{Rcode: "NXDOMAIN"},
			state: fail, reason: condition, answers: []string{"192.0.2.1", "192.0.2.2"}, err: "rcode NOERROR, want NXDOMAIN"},
		{name: "SERVFAIL", url: "dns://fail.test?server=%s", state: fail, reason: condition, rcode: "SERVFAIL",
			err: "rcode SERVFAIL, want NOERROR"},
		{name: "SERVFAIL wanted", url: "dns://fail.test?server=%s", spec: probe.DNSSpec{Rcode: "SERVFAIL"}, state: ok, rcode: "SERVFAIL"},
		{name: "no answer", url: "dns://empty.test?server=%s", state: ok},
		{name: "non_empty without answer", url: "dns://empty.test?server=%s", spec: probe.DNSSpec{NonEmpty: true},
			state: fail, reason: condition, err: "no A answer, want at least one"},
		{name: "non_empty", url: "dns://a.test?server=%s", spec: probe.DNSSpec{NonEmpty: true},
			state: ok, answers: []string{"192.0.2.1", "192.0.2.2"}},
		{name: "expect none", url: "dns://empty.test?server=%s", spec: probe.DNSSpec{Expect: []string{}}, state: ok},
		{name: "expect none, got some", url: "dns://a.test?server=%s", spec: probe.DNSSpec{Expect: []string{}},
			state: fail, reason: condition, answers: []string{"192.0.2.1", "192.0.2.2"},
			err: `answers ["192.0.2.1" "192.0.2.2"], want []`},
		{name: "over TCP", url: "dns://mx.test?type=MX&net=tcp&server=%s", state: ok, answers: []string{"10 mx1.test", "20 mx2.test"}},
		{name: "block overrides query", url: "dns://a.test?type=MX&net=tcp&server=192.0.2.53", spec: probe.DNSSpec{Type: "AAAA", Net: "udp"},
			state: ok, answers: []string{"2001:db8::1"}},
	}
	// The last case names its server in the block.
	tests[len(tests)-1].spec.Server = srv.addr
	runDNS(t, srv, env, "%s", "", tests)
}

func TestDNSTruncated(t *testing.T) {
	srv := newDNSServer(t)
	env := newEnv(t, probe.Options{})
	for _, tt := range []struct {
		net      string
		retry    bool
		udp, tcp int64
	}{
		{"udp", true, 1, 1},
		{"tcp", false, 0, 1},
	} {
		t.Run(tt.net, func(t *testing.T) {
			udp, tcp := srv.udp.Load(), srv.tcp.Load()
			c := buildKind(t, &probe.DNSSpec{Net: tt.net, NonEmpty: true}, "dns://big.test?server="+srv.addr)
			o := run(t, c, env, 5*time.Second)
			o.want(t, fanout.StateOK, fanout.ReasonNone)
			if got, _ := o.detail["answers"].([]string); len(got) != 20 {
				t.Errorf("answers %v, want 20", o.detail["answers"])
			}
			if retry, _ := o.detail["truncated_retry"].(bool); retry != tt.retry {
				t.Errorf("truncated_retry %v, want %v", o.detail["truncated_retry"], tt.retry)
			}
			if gotUDP, gotTCP := srv.udp.Load()-udp, srv.tcp.Load()-tcp; gotUDP != tt.udp || gotTCP != tt.tcp {
				t.Errorf("queries over udp %d tcp %d, want %d %d", gotUDP, gotTCP, tt.udp, tt.tcp)
			}
		})
	}
}

func TestDNSUnreachable(t *testing.T) {
	silent, dead := silentUDP(t), deadUDP(t)
	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		cancel  time.Duration // cancel the attempt after this long, if set
		state   fanout.State
		reason  fanout.Reason
		err     string
	}{
		{"no answer", "dns://a.test?server=" + silent, 200 * time.Millisecond, 0,
			fanout.StateTimeout, fanout.ReasonTimeout, "timeout awaiting an answer from " + silent + " after …"},
		{"no answer over tcp", "dns://a.test?net=tcp&server=" + deadAddr(t), 5 * time.Second, 0,
			fanout.StateError, fanout.ReasonRefused, "query to 127.0.0.1:…"},
		{"refused", "dns://a.test?server=" + dead, 5 * time.Second, 0,
			fanout.StateError, fanout.ReasonRefused, "query to " + dead + ": …"},
		{"cancelled", "dns://a.test?server=" + silent, 5 * time.Second, 100 * time.Millisecond,
			fanout.StateError, fanout.ReasonCancelled, "query to " + silent + ": attempt cancelled"},
		// An attempt without a deadline is bounded by the Env's Timeout.
		{"no deadline", "dns://a.test?server=" + silent, 200 * time.Millisecond, 10 * time.Second,
			fanout.StateTimeout, fanout.ReasonTimeout, "timeout awaiting an answer from " + silent + " after 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := buildKind(t, &probe.DNSSpec{}, tt.url)
			var o outcome
			if tt.cancel > 0 {
				o = runCancelled(t, c, newEnv(t, probe.Options{Timeout: tt.timeout}), tt.cancel)
			} else {
				o = run(t, c, newEnv(t, probe.Options{}), tt.timeout)
			}
			o.want(t, tt.state, tt.reason)
			wantErrText(t, o.err, tt.err)
			if limit := min(tt.timeout, tt.cancel+time.Second) + time.Second; o.elapsed > limit {
				t.Errorf("took %v, want under %v", o.elapsed, limit)
			}
		})
	}
}

// runCancelled runs c with a context cancelled after the given time.
func runCancelled(t *testing.T, c probe.Check, env *probe.Env, after time.Duration) outcome {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(after, cancel)
	defer timer.Stop()
	defer cancel()
	start := time.Now()
	d, err := c.Run(ctx, env)
	o := outcome{detail: d, err: err, elapsed: time.Since(start)}
	o.state, o.reason = fanout.Classify(err)
	return o
}

// The system resolver of Options.Resolver answers the types it has a
// method for; rcodes come from its errors.
func TestDNSSystemResolver(t *testing.T) {
	srv := newDNSServer(t)
	env := newEnv(t, probe.Options{Resolver: resolverTo(srv.addr)})
	// No resolv.conf: the lookups below must not need one.
	noConf := filepath.Join(t.TempDir(), "resolv.conf")
	ok := fanout.StateOK
	fail, condition := fanout.StateFail, fanout.ReasonCondition
	tests := []dnsCase{
		{name: "A", url: "dns://a.test", spec: probe.DNSSpec{Expect: []string{"192.0.2.1", "192.0.2.2"}},
			state: ok, answers: []string{"192.0.2.1", "192.0.2.2"}},
		{name: "AAAA", url: "dns://a.test?type=AAAA", state: ok, answers: []string{"2001:db8::1"}},
		{name: "CNAME", url: "dns://cname.test?type=CNAME", spec: probe.DNSSpec{Expect: []string{"target.test"}},
			state: ok, answers: []string{"target.test"}},
		{name: "MX", url: "dns://mx.test?type=MX", spec: probe.DNSSpec{Expect: []string{"10 mx1.test", "20 mx2.test"}},
			state: ok, answers: []string{"10 mx1.test", "20 mx2.test"}},
		{name: "TXT", url: "dns://txt.test?type=TXT", spec: probe.DNSSpec{Expect: []string{"v=spf1 -all", "hello"}},
			state: ok, answers: []string{"Hello", "v=spf1 -all"}},
		{name: "NS", url: "dns://ns.test?type=NS", state: ok, answers: []string{"ns1.test", "ns2.test"}},
		{name: "SRV", url: "dns://_svc._tcp.test?type=SRV", state: ok, answers: []string{"10 5 443 host.test"}},
		{name: "PTR", url: "dns://192.0.2.1?type=PTR", state: ok, answers: []string{"a.test"}},
		{name: "NXDOMAIN", url: "dns://nothing.test", state: fail, reason: condition, rcode: "NXDOMAIN",
			err: "rcode NXDOMAIN, want NOERROR"},
		{name: "NXDOMAIN wanted", url: "dns://nothing.test?type=MX", spec: probe.DNSSpec{Rcode: "NXDOMAIN"}, state: ok, rcode: "NXDOMAIN"},
		{name: "SERVFAIL", url: "dns://fail.test?type=TXT", state: fail, reason: condition, rcode: "SERVFAIL",
			err: "rcode SERVFAIL, want NOERROR"},
	}
	for _, tt := range tests {
		if c := buildKind(t, &tt.spec, tt.url); c.Host() != "system-resolver" {
			t.Errorf("%s: host %q, want system-resolver", tt.url, c.Host())
		}
	}
	runDNS(t, srv, env, "system-resolver", noConf, tests)
}

// Without Options.Resolver, and for the types net.Resolver cannot ask
// for, the system resolver is the servers of resolv.conf, in turn.
func TestDNSResolvConf(t *testing.T) {
	srv := newDNSServer(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	// A port after the address is not resolv.conf syntax, but the check
	// takes it, so that this test can stay on loopback.
	body := fmt.Sprintf("# test\nsearch example.org\nnameserver %s\nnameserver %s\noptions timeout:1\n", deadUDP(t), srv.addr)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	soa := []string{"ns1.test hostmaster.test 2026010101 7200 3600 1209600 300"}
	tests := []dnsCase{
		{name: "SOA", url: "dns://soa.test?type=SOA", spec: probe.DNSSpec{Expect: soa}, state: fanout.StateOK, answers: soa},
		{name: "A", url: "dns://a.test", state: fanout.StateOK, answers: []string{"192.0.2.1", "192.0.2.2"}},
		{name: "NXDOMAIN", url: "dns://nothing.test?type=CAA", state: fanout.StateFail, reason: fanout.ReasonCondition,
			rcode: "NXDOMAIN", err: "rcode NXDOMAIN, want NOERROR"},
	}
	runDNS(t, srv, newEnv(t, probe.Options{}), srv.addr, conf, tests)
	// Options.Resolver cannot ask for SOA records: resolv.conf's servers
	// are asked.
	t.Run("SOA with Options.Resolver", func(t *testing.T) {
		env := newEnv(t, probe.Options{Resolver: resolverTo(deadUDP(t))})
		c := buildKind(t, &probe.DNSSpec{Type: "SOA"}, "dns://soa.test")
		probe.SetResolvConf(c, conf)
		o := run(t, c, env, 5*time.Second)
		o.want(t, fanout.StateOK, fanout.ReasonNone)
		if o.detail["server"] != srv.addr {
			t.Errorf("server %v, want %s", o.detail["server"], srv.addr)
		}
	})
	t.Run("no resolv.conf", func(t *testing.T) {
		missing := filepath.Join(dir, "missing")
		c := buildKind(t, &probe.DNSSpec{Type: "SOA"}, "dns://soa.test")
		probe.SetResolvConf(c, missing)
		o := run(t, c, newEnv(t, probe.Options{}), 5*time.Second)
		o.want(t, fanout.StateError, fanout.ReasonDNS)
		wantErrText(t, o.err, "no DNS server to ask for SOA records: open "+missing+": no such file or directory")
	})
	t.Run("no resolv.conf, A falls back to the resolver", func(t *testing.T) {
		c := buildKind(t, &probe.DNSSpec{}, "dns://a.test")
		probe.SetResolvConf(c, filepath.Join(dir, "missing"))
		// With Options.Resolver set, A goes to it whatever resolv.conf
		// says; the same path serves a missing resolv.conf.
		o := run(t, c, newEnv(t, probe.Options{Resolver: resolverTo(srv.addr)}), 5*time.Second)
		o.want(t, fanout.StateOK, fanout.ReasonNone)
	})
}

func TestDNSHost(t *testing.T) {
	tests := []struct{ url, host string }{
		{"dns://example.org", "system-resolver"},
		{"dns://example.org?server=NS1.Example.ORG", "ns1.example.org:53"},
		{"DNS://example.org/?server=192.0.2.53:5353&type=MX", "192.0.2.53:5353"},
		{"dns://example.org?server=::1", "[::1]:53"},
		{"dns://example.org?server=[2001:DB8::1]:5353", "[2001:db8::1]:5353"},
	}
	for _, tt := range tests {
		c := mustCheck(t, tt.url)
		if c.Kind() != "dns" || c.Host() != tt.host {
			t.Errorf("%s: kind %q host %q, want dns %q", tt.url, c.Kind(), c.Host(), tt.host)
		}
	}
	spec, ok := probe.NewSpec("dns")
	if _, isDNS := spec.(*probe.DNSSpec); !ok || !isDNS {
		t.Errorf(`NewSpec("dns") = %#v, want a *DNSSpec`, spec)
	}
}

func TestDNSBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		url  string
		spec probe.DNSSpec
		path []string // of the *FieldError; nil: a plain error
		err  string
	}{
		{"type", "dns://x.test", probe.DNSSpec{Type: "AAA"}, []string{"type"},
			`type: unknown record type "AAA" (want one of A, AAAA, CNAME, MX, TXT, NS, SRV, SOA, CAA, PTR, or another RR type name) (did you mean "AAAA"?)`},
		{"transfer type", "dns://x.test", probe.DNSSpec{Type: "axfr"}, []string{"type"}, "type: type AXFR cannot be looked up"},
		{"server port", "dns://x.test", probe.DNSSpec{Server: "192.0.2.53:99999"}, []string{"server"},
			`server: invalid server "192.0.2.53:99999": invalid port "99999"`},
		{"server", "dns://x.test", probe.DNSSpec{Server: "ns1 example"}, []string{"server"},
			`server: invalid server "ns1 example": not a host name or IP address`},
		{"net", "dns://x.test", probe.DNSSpec{Net: "quic"}, []string{"net"}, `net: unknown net "quic" (want udp or tcp)`},
		{"rcode", "dns://x.test", probe.DNSSpec{Rcode: "NXDOMIAN"}, []string{"rcode"},
			`rcode: unknown rcode "NXDOMIAN" (want NOERROR, NXDOMAIN, SERVFAIL, REFUSED or another rcode name) (did you mean "NXDOMAIN"?)`},
		{"expect A", "dns://x.test", probe.DNSSpec{Expect: []string{"192.0.2.1", "192.0.2"}}, []string{"expect", "1"},
			`expect.1: "192.0.2" is not A record data`},
		{"expect MX", "dns://x.test", probe.DNSSpec{Type: "MX", Expect: []string{"mx.test"}}, []string{"expect", "0"},
			`expect.0: "mx.test" is not MX record data`},
		{"expect empty", "dns://x.test?type=NS", probe.DNSSpec{Expect: []string{" "}}, []string{"expect", "0"}, "expect.0: empty answer"},
		{"query type", "dns://x.test?type=AXX", probe.DNSSpec{}, nil,
			`dns target: query parameter type: unknown record type "AXX" (want one of A, AAAA, CNAME, MX, TXT, NS, SRV, SOA, CAA, PTR, or another RR type name)`},
		{"query type overridden", "dns://x.test?type=AXX", probe.DNSSpec{Type: "A"}, nil,
			`dns target: query parameter type: unknown record type "AXX" (want one of A, AAAA, CNAME, MX, TXT, NS, SRV, SOA, CAA, PTR, or another RR type name)`},
		{"query server", "dns://x.test?server=", probe.DNSSpec{}, nil, "dns target: query parameter server: empty server"},
		{"query net", "dns://x.test?net=tls", probe.DNSSpec{}, nil, `dns target: query parameter net: unknown net "tls" (want udp or tcp)`},
		{"query unknown", "dns://x.test?typ=MX", probe.DNSSpec{}, nil,
			`dns target: unknown query parameter "typ" (want type, server, net) (did you mean "type"?)`},
		{"query twice", "dns://x.test?type=A&type=MX", probe.DNSSpec{}, nil, "dns target: query parameter type given 2 times"},
		{"port", "dns://x.test:53", probe.DNSSpec{}, nil, "dns target takes no port (the server goes in ?server=host:port)"},
		{"path", "dns://x.test/a", probe.DNSSpec{}, nil, `dns target takes no path (got "/a")`},
		{"user info", "dns://u@x.test", probe.DNSSpec{}, nil, "dns target takes no user info"},
		{"name", "dns://a..b", probe.DNSSpec{}, nil, `dns target: invalid name "a..b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantBuildError(t, &tt.spec, tt.url, tt.err, tt.path)
		})
	}
	if _, err := (&probe.DNSSpec{}).Build(nil); err == nil {
		t.Error("Build(nil) succeeded")
	}
}
