package probe

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/fanout-dev/fanout"
)

// SystemResolver is the host of a dns check that asks the system's
// resolver rather than a given server.
const SystemResolver = "system-resolver"

// DefaultResolvConf is where the system's DNS servers are read from.
const DefaultResolvConf = "/etc/resolv.conf"

// DNS looks a name up: one query of one type, to a given server or to the
// system's resolver, over UDP (retried over TCP when the answer is
// truncated) or TCP. It is ok when the rcode is the expected one and the
// answers meet Expect and NonEmpty. Build it with [DNSSpec.Build], which
// validates and canonicalises the fields.
type DNS struct {
	// Name is the name looked up, absolute and lower-case
	// ("example.org."); for a PTR lookup of an IP address, its reverse
	// name.
	Name string
	// Type is the record type, upper-case: "A", "MX", "CAA"…
	Type string
	// Server is the host:port queried; "" means the system's resolver.
	Server string
	// Net is "udp" or "tcp".
	Net string
	// Expect, when not nil, is the exact set of answers wanted, in
	// canonical form (see [DNSSpec]); an empty non-nil Expect wants none.
	Expect []string
	// NonEmpty wants at least one answer.
	NonEmpty bool
	// Rcode is the rcode wanted: "NOERROR", "NXDOMAIN"…
	Rcode string
	// IP is the address of a PTR lookup given as an address ("" else):
	// the system resolver of Options.Resolver is asked for it by address.
	IP string

	// resolvConf is where the system's servers are read from ("" means
	// DefaultResolvConf). Tests point it at a file of their own.
	resolvConf string
}

var _ Check = (*DNS)(nil)

// DNSSpec is the `dns:` block of a YAML check. Its fields override the
// target's query parameters of the same name (type, server, net).
type DNSSpec struct {
	// Type is the record type asked for (default A): A, AAAA, CNAME, MX,
	// TXT, NS, SRV, SOA, CAA, PTR, or any other RR type name. For PTR the
	// target's name may be an IP address.
	Type string `yaml:"type"`
	// Server is the host:port of the DNS server to ask (port 53 by
	// default); empty means the system's resolver.
	Server string `yaml:"server"`
	// Net is udp (default) or tcp.
	Net string `yaml:"net"`
	// Expect is the exact set of answers wanted, in any order, compared
	// in canonical form: lower-case, names without their trailing dot,
	// TXT chunks joined, and each answer as its record's data: A
	// "192.0.2.1", MX "10 mx.example.org", SRV "10 5 443 host.example.org",
	// SOA "ns.example.org hostmaster.example.org 1 7200 3600 1209600 300",
	// CAA `0 issue "letsencrypt.org"`. An empty list wants no answer.
	Expect []string `yaml:"expect"`
	// NonEmpty wants at least one answer.
	NonEmpty bool `yaml:"non_empty"`
	// Rcode is the rcode wanted (default NOERROR), e.g. NXDOMAIN to check
	// that a name does not exist.
	Rcode string `yaml:"rcode"`
}

func newDNSSpec() Spec { return &DNSSpec{} }

// dnsParams are the query parameters a dns target may have.
var dnsParams = []string{"type", "server", "net"}

// Build returns the DNS check of target: dns://name, with nothing after
// the name but an optional "/" and the query parameters type, server and
// net, each at most once. A bad field is a *FieldError; a bad query
// parameter an error that names it.
func (s *DNSSpec) Build(u *url.URL) (Check, error) {
	params, err := dnsTarget(u)
	if err != nil {
		return nil, err
	}
	c := &DNS{Rcode: "NOERROR", NonEmpty: s.NonEmpty}
	if c.Type, err = dnsPick(s.Type, params, "type", "A", dnsRecordType); err != nil {
		return nil, err
	}
	if c.Server, err = dnsPick(s.Server, params, "server", "", dnsServerAddr); err != nil {
		return nil, err
	}
	if c.Net, err = dnsPick(s.Net, params, "net", "udp", dnsNet); err != nil {
		return nil, err
	}
	if s.Rcode != "" {
		if c.Rcode, err = dnsRcodeName(s.Rcode); err != nil {
			return nil, fieldErr(err, "rcode")
		}
	}
	name := u.Hostname()
	if c.Name, err = dnsQueryName(name, c.Type); err != nil {
		return nil, fmt.Errorf("dns target: %w", err)
	}
	if c.Type == "PTR" && net.ParseIP(name) != nil {
		c.IP = name
	}
	if s.Expect != nil {
		c.Expect = make([]string, 0, len(s.Expect))
		for i, v := range s.Expect {
			a, err := dnsCanonicalExpect(c.Type, v)
			if err != nil {
				return nil, fieldErr(err, "expect", fmt.Sprint(i))
			}
			c.Expect = append(c.Expect, a)
		}
		c.Expect = dnsSortedSet(c.Expect)
	}
	return c, nil
}

// dnsTarget checks what a dns target may hold and returns its query.
func dnsTarget(u *url.URL) (url.Values, error) {
	switch {
	case u == nil:
		return nil, errors.New("a dns check needs a target")
	case u.User != nil:
		return nil, errors.New("dns target takes no user info")
	case u.Port() != "" || strings.HasSuffix(u.Host, ":"):
		return nil, errors.New("dns target takes no port (the server goes in ?server=host:port)")
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("dns target takes no path (got %q)", u.Path)
	}
	params, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("dns target: invalid query: %w", err)
	}
	for _, key := range slices.Sorted(maps.Keys(params)) {
		switch {
		case !slices.Contains(dnsParams, key):
			msg := fmt.Sprintf("dns target: unknown query parameter %q (want %s)", key, strings.Join(dnsParams, ", "))
			if best := dnsNearest(key, dnsParams); best != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", best)
			}
			return nil, errors.New(msg)
		case len(params[key]) > 1:
			return nil, fmt.Errorf("dns target: query parameter %s given %d times", key, len(params[key]))
		}
	}
	return params, nil
}

// dnsPick returns a setting: the block's value, else the query parameter's,
// else def, checked and made canonical by check. A bad block value is a
// *FieldError, a bad query parameter an error naming it, both checked.
func dnsPick(field string, params url.Values, name, def string, check func(string) (string, error)) (string, error) {
	v := def
	if vs, ok := params[name]; ok {
		var err error
		if v, err = check(vs[0]); err != nil {
			// Even when the block overrides it: the target is wrong.
			return "", fmt.Errorf("dns target: query parameter %s: %w", name, err)
		}
	}
	if field != "" {
		var err error
		if v, err = check(field); err != nil {
			return "", fieldErr(err, name)
		}
	}
	return v, nil
}

// dnsServerAddr returns a server address as host:port, the host lower-case
// and port 53 filled in: "ns1.example.org", "192.0.2.53:5353", "::1" and
// "[::1]:53" are all accepted.
func dnsServerAddr(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty server")
	}
	host, port, err := net.SplitHostPort(s)
	switch {
	case net.ParseIP(s) != nil:
		host, port = s, ""
	case err != nil:
		if strings.Contains(s, ":") {
			return "", fmt.Errorf("invalid server %q (want host or host:port)", s)
		}
		host, port = s, ""
	}
	if host == "" {
		return "", fmt.Errorf("invalid server %q: missing host", s)
	}
	if err := validPort(port); err != nil {
		return "", fmt.Errorf("invalid server %q: %w", s, err)
	}
	if net.ParseIP(host) == nil {
		if _, ok := dns.IsDomainName(host); !ok || strings.ContainsAny(host, "/ ") {
			return "", fmt.Errorf("invalid server %q: not a host name or IP address", s)
		}
	}
	return hostPort(host, port, "53"), nil
}

// dnsNet checks a transport name.
func dnsNet(s string) (string, error) {
	switch n := strings.ToLower(s); n {
	case "udp", "tcp":
		return n, nil
	}
	return "", fmt.Errorf("unknown net %q (want udp or tcp)", s)
}

// Kind returns "dns".
func (c *DNS) Kind() string { return "dns" }

// Host returns the server queried, lower-case host:port, or
// "system-resolver".
func (c *DNS) Host() string {
	if c.Server == "" {
		return SystemResolver
	}
	if s, err := dnsServerAddr(c.Server); err == nil {
		return s
	}
	return c.Server
}

// dnsAnswer is what a lookup saw.
type dnsAnswer struct {
	rcode   string
	answers []string
	rtt     time.Duration
	server  string
	// truncatedRetry says a truncated UDP answer was asked again over
	// TCP.
	truncatedRetry bool
}

// Run performs the lookup under ctx and judges the answer. The detail
// holds rcode, answers (canonical, sorted), rtt_ms, server (the one that
// answered, or "system-resolver" for a lookup through Options.Resolver)
// and truncated_retry (only when true). A wrong rcode, a differing answer
// set, or no answer with NonEmpty is fail/condition; no answer in time is
// timeout/timeout; an unreachable server is error/refused (or a timeout,
// over UDP, when nothing says it is unreachable).
func (c *DNS) Run(ctx context.Context, env *Env) (Detail, error) {
	ctx, cancel := env.bound(ctx)
	defer cancel()
	var (
		a   dnsAnswer
		err error
	)
	switch {
	case c.Server != "":
		a, err = c.exchange(ctx, env, c.Server) // canonical since Build
	default:
		a, err = c.system(ctx, env)
	}
	if err != nil {
		if a.server == "" {
			return nil, err
		}
		d := Detail{"server": a.server}
		if a.truncatedRetry {
			d["truncated_retry"] = true
		}
		return d, err
	}
	d := Detail{
		"rcode":   a.rcode,
		"answers": a.answers,
		"rtt_ms":  millis(a.rtt),
		"server":  a.server,
	}
	if a.truncatedRetry {
		d["truncated_retry"] = true
	}
	return d, c.judge(a)
}

// judge checks an answer against the conditions, in order: rcode, Expect,
// NonEmpty.
func (c *DNS) judge(a dnsAnswer) error {
	switch {
	case a.rcode != c.Rcode:
		return fanout.Failf(fanout.ReasonCondition, "rcode %s, want %s", a.rcode, c.Rcode)
	case c.Expect != nil && !dnsSameAnswers(a.answers, c.Expect):
		return fanout.Failf(fanout.ReasonCondition, "answers %s, want %s", dnsQuoteList(a.answers), dnsQuoteList(c.Expect))
	case c.NonEmpty && len(a.answers) == 0:
		return fanout.Failf(fanout.ReasonCondition, "no %s answer, want at least one", c.Type)
	}
	return nil
}

// dnsQuoteList shows answers, which may hold spaces: ["10 a.example" "20 b.example"].
func dnsQuoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(q, " ") + "]"
}

// exchange asks server, over c.Net, and over TCP again when a UDP answer
// comes back truncated (miekg/dns does not).
func (c *DNS) exchange(ctx context.Context, env *Env, server string) (dnsAnswer, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(c.Name), dnsTypeCode(c.Type))
	// Advertise the DNS flag day's safe UDP size, so that fewer answers
	// need the TCP retry.
	m.SetEdns0(1232, false)
	a := dnsAnswer{server: server}
	r, rtt, err := c.ask(ctx, env, m, server, c.Net)
	a.rtt += rtt
	if err == nil && r.Truncated && c.Net == "udp" {
		a.truncatedRetry = true
		r, rtt, err = c.ask(ctx, env, m, server, "tcp")
		a.rtt += rtt
	}
	if err != nil {
		return a, dnsAbout(server, err)
	}
	a.rcode = dnsRcodeString(r.Rcode)
	a.answers = dnsAnswersOf(r, dnsTypeCode(c.Type))
	return a, nil
}

// ask sends m to server over network under ctx: miekg/dns's
// ExchangeContext, in its two steps so that a cancelled ctx also ends the
// wait for the answer (miekg/dns takes only ctx's deadline for that).
// Failures come back classed.
func (c *DNS) ask(ctx context.Context, env *Env, m *dns.Msg, server, network string) (*dns.Msg, time.Duration, error) {
	// ctx has a deadline (see Run), which bounds the dial; the Client's
	// own Timeout (2 s for each of dial, write and read if left 0) must
	// not come before it.
	deadline, _ := ctx.Deadline()
	client := &dns.Client{Net: network, Dialer: env.opts.Dialer, Timeout: max(time.Until(deadline), time.Millisecond)}
	tr := newTracer()
	conn, err := client.DialContext(httptrace.WithClientTrace(ctx, tr.clientTrace()), server)
	p := tr.finish()
	if err != nil {
		return nil, 0, classify(ctx, err, phaseDial, p.dialStage(), p.start, env.quotedTimeout(ctx, p.start))
	}
	defer func() { _ = conn.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	r, rtt, err := client.ExchangeWithConnContext(ctx, m, conn)
	if err != nil {
		return nil, rtt, dnsExchangeFailed(ctx, err, server, p.start, env.quotedTimeout(ctx, p.start))
	}
	return r, rtt, nil
}

// dnsExchangeFailed classes a failed query: no answer in time is
// timeout/timeout; a refused port (ICMP over UDP) refused; a broken
// answer reset.
func dnsExchangeFailed(ctx context.Context, err error, server string, start time.Time, timeout time.Duration) error {
	if te := timedOutDoing(ctx, err, "awaiting an answer from "+server, "", start, timeout); te != nil {
		return te
	}
	return classify(ctx, err, phaseHeaders, "", start, timeout)
}

// dnsAbout names the server in a classed error's message, unless it does.
func dnsAbout(server string, err error) error {
	var fe *fanout.Error
	if errors.As(err, &fe) && fe.Err != nil && !strings.Contains(fe.Err.Error(), server) {
		fe.Err = &described{msg: "query to " + server + ": " + fe.Err.Error(), err: fe.Err}
	}
	return err
}

// system asks the system's resolver: the servers of resolv.conf, in
// turn, each within the timeout there, the next one when a server cannot
// be reached or does not answer in time. When resolv.conf cannot be read,
// A and AAAA lookups fall back to net.DefaultResolver (which may ask the
// C library).
//
// Options.Resolver, when set, stands for the system's resolver (tests
// point it at a loopback server, so that they never leave loopback), but
// only for the types net.Resolver has a method for: A, AAAA, CNAME, MX,
// TXT, NS, SRV and PTR of an address. It cannot ask for SOA, CAA or any
// other type, nor say which rcode came back; those lookups need a server,
// and go to resolv.conf's.
func (c *DNS) system(ctx context.Context, env *Env) (dnsAnswer, error) {
	if r := env.opts.Resolver; r != nil && c.goResolvable() {
		return c.lookup(ctx, env, r)
	}
	path := c.resolvConf
	if path == "" {
		path = DefaultResolvConf
	}
	conf, err := dns.ClientConfigFromFile(path)
	if err == nil && len(conf.Servers) == 0 {
		err = fmt.Errorf("no nameserver in %s", path)
	}
	if err != nil {
		if outOfDescriptors(err) {
			return dnsAnswer{}, classed(fanout.StateError, fanout.ReasonLocalResources, describe(err), err)
		}
		if c.Type == "A" || c.Type == "AAAA" {
			r := env.opts.Resolver
			if r == nil {
				r = net.DefaultResolver
			}
			return c.lookup(ctx, env, r)
		}
		return dnsAnswer{}, classed(fanout.StateError, fanout.ReasonDNS,
			fmt.Sprintf("no DNS server to ask for %s records: %v", c.Type, err), err)
	}
	var a dnsAnswer
	for i, s := range conf.Servers {
		server := dnsResolvServer(s, conf.Port)
		if i == len(conf.Servers)-1 {
			return c.exchange(ctx, env, server)
		}
		// Not the last server: give it resolv.conf's timeout, and the
		// next server its turn when it fails to answer.
		sctx, cancel := context.WithTimeout(ctx, time.Duration(conf.Timeout)*time.Second)
		a, err = c.exchange(sctx, env, server)
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	return a, err
}

// dnsResolvServer returns the address of a resolv.conf nameserver: an IP
// address (IPv6 with a zone too) on port. A host:port, which the C
// library does not accept there, is taken as written: tests use it.
func dnsResolvServer(s, port string) string {
	if host, p, err := net.SplitHostPort(s); err == nil && p != "" {
		return net.JoinHostPort(host, p)
	}
	return net.JoinHostPort(s, port)
}

// goResolvable reports whether net.Resolver has a method for the lookup.
func (c *DNS) goResolvable() bool {
	switch c.Type {
	case "A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV":
		return true
	case "PTR":
		return c.IP != ""
	}
	return false
}

// lookup asks r, as the system resolver. net.Resolver reports no rcode:
// a name it cannot find is NXDOMAIN, though it says the same of a name
// without records of the type (NOERROR with no answer); a server failure
// is SERVFAIL.
func (c *DNS) lookup(ctx context.Context, env *Env, r *net.Resolver) (dnsAnswer, error) {
	start := time.Now()
	answers, err := c.goLookup(ctx, r)
	a := dnsAnswer{rcode: "NOERROR", answers: dnsSortedSet(append([]string{}, answers...)), rtt: time.Since(start), server: SystemResolver}
	if err == nil {
		return a, nil
	}
	if te := timedOutDoing(ctx, err, "awaiting an answer from the system resolver", "", start, env.quotedTimeout(ctx, start)); te != nil {
		return a, te
	}
	var dnsErr *net.DNSError
	switch {
	case errors.Is(ctx.Err(), context.Canceled) || !errors.As(err, &dnsErr):
		return a, classify(ctx, err, phaseDial, "dns", start, env.quotedTimeout(ctx, start))
	case dnsErr.IsNotFound:
		a.rcode = "NXDOMAIN"
		return a, nil
	case dnsErr.Err == "server misbehaving" && dnsErr.IsTemporary:
		a.rcode = "SERVFAIL"
		return a, nil
	case dnsErr.Err == "server misbehaving":
		// Another error rcode (REFUSED, NOTIMP…): which one, net.Resolver
		// does not say.
		return a, fanout.Failf(fanout.ReasonCondition, "the system resolver answered an error rcode (not NXDOMAIN or SERVFAIL), want %s", c.Rcode)
	}
	return a, lookupFailed(dnsErr, err)
}

// goLookup asks r for c's records, in canonical form.
func (c *DNS) goLookup(ctx context.Context, r *net.Resolver) ([]string, error) {
	var out []string
	switch c.Type {
	case "A", "AAAA":
		network := "ip4"
		if c.Type == "AAAA" {
			network = "ip6"
		}
		ips, err := r.LookupNetIP(ctx, network, c.Name)
		for _, ip := range ips {
			out = append(out, ip.Unmap().String())
		}
		return out, err
	case "CNAME":
		// LookupCNAME follows the chain to its end, and answers the name
		// itself for a name that is no alias.
		cname, err := r.LookupCNAME(ctx, c.Name)
		if err == nil && dnsDomain(cname) != dnsDomain(c.Name) {
			out = append(out, dnsDomain(cname))
		}
		return out, err
	case "MX":
		mxs, err := r.LookupMX(ctx, c.Name)
		for _, mx := range mxs {
			out = append(out, fmt.Sprintf("%d %s", mx.Pref, dnsDomain(mx.Host)))
		}
		return out, err
	case "TXT":
		return r.LookupTXT(ctx, c.Name)
	case "NS":
		nss, err := r.LookupNS(ctx, c.Name)
		for _, ns := range nss {
			out = append(out, dnsDomain(ns.Host))
		}
		return out, err
	case "SRV":
		_, srvs, err := r.LookupSRV(ctx, "", "", c.Name)
		for _, s := range srvs {
			out = append(out, fmt.Sprintf("%d %d %d %s", s.Priority, s.Weight, s.Port, dnsDomain(s.Target)))
		}
		return out, err
	case "PTR":
		names, err := r.LookupAddr(ctx, c.IP)
		for _, n := range names {
			out = append(out, dnsDomain(n))
		}
		return out, err
	}
	return nil, fmt.Errorf("net.Resolver cannot ask for %s records", c.Type)
}
