package kindfarm

import (
	"errors"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// ZoneFile is what the DNS server knows, in zone file syntax. Any other
// name of the zone answers NOERROR without records for a type it lacks;
// fail.farm.test answers SERVFAIL; a name outside the zone, or inside it
// but not listed, NXDOMAIN. A query for a type other than CNAME of a name
// that is an alias answers the CNAME and the target's records, as a real
// server does.
const ZoneFile = `
$ORIGIN farm.test.
@        300 IN SOA   ns1 hostmaster 2026010101 7200 3600 1209600 300
@        300 IN NS    ns1
@        300 IN NS    ns2
@        300 IN MX    10 mx1
@        300 IN MX    20 mx2
@        300 IN TXT   "v=spf1 mx -all"
@        300 IN CAA   0 issue "letsencrypt.org"
@        300 IN CAA   0 iodef "mailto:security@farm.test"
ns1      300 IN A     127.0.0.1
ns2      300 IN A     127.0.0.1
mx1      300 IN A     127.0.0.1
mx2      300 IN A     127.0.0.1
api      300 IN A     127.0.0.1
api      300 IN AAAA  ::1
www      300 IN CNAME api
txt      300 IN TXT   "chunk one, " "chunk two"
_api._tcp 300 IN SRV  10 5 8443 api
`

// failName answers SERVFAIL.
const failName = "fail.farm.test."

// zone is the parsed ZoneFile: name → type → records.
type zone map[string]map[uint16][]dns.RR

func parseZone() (zone, error) {
	z := zone{}
	zp := dns.NewZoneParser(strings.NewReader(ZoneFile), Zone, "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := strings.ToLower(rr.Header().Name)
		if z[name] == nil {
			z[name] = map[uint16][]dns.RR{}
		}
		z[name][rr.Header().Rrtype] = append(z[name][rr.Header().Rrtype], rr)
	}
	return z, zp.Err()
}

// answer fills m, the reply to a query for name and qtype.
func (z zone) answer(m *dns.Msg, name string, qtype uint16) {
	switch {
	case name == failName:
		m.Rcode = dns.RcodeServerFailure
		return
	case z[name] == nil:
		m.Rcode = dns.RcodeNameError
		if dns.IsSubDomain(Zone, name) {
			m.Ns = z[Zone][dns.TypeSOA]
		}
		return
	}
	if cname := z[name][dns.TypeCNAME]; len(cname) > 0 && qtype != dns.TypeCNAME {
		m.Answer = append(m.Answer, cname...)
		name = strings.ToLower(cname[0].(*dns.CNAME).Target)
	}
	m.Answer = append(m.Answer, z[name][qtype]...)
}

// serveDNS serves the zone on one new loopback port over UDP and TCP. It
// returns the address and the func that shuts both servers down and waits
// for them.
func serveDNS() (string, func(), error) {
	z, err := parseZone()
	if err != nil {
		return "", nil, err
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		// Go's resolver takes an answer without records and without
		// these bits for a lame referral.
		m.Authoritative, m.RecursionAvailable = true, true
		if len(r.Question) == 1 {
			q := r.Question[0]
			z.answer(m, strings.ToLower(q.Name), q.Qtype)
		} else {
			m.Rcode = dns.RcodeFormatError
		}
		_ = w.WriteMsg(m)
	})
	pc, ln, err := udpAndTCP()
	if err != nil {
		return "", nil, err
	}
	servers := []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}}
	var wg sync.WaitGroup
	errs := make(chan error, len(servers))
	for _, srv := range servers {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		wg.Go(func() {
			if err := srv.ActivateAndServe(); err != nil {
				errs <- err
			}
		})
		select {
		case <-started:
		case err := <-errs:
			_ = pc.Close()
			_ = ln.Close()
			wg.Wait()
			return "", nil, err
		}
	}
	return pc.LocalAddr().String(), func() {
		for _, srv := range servers {
			_ = srv.Shutdown()
		}
		wg.Wait()
	}, nil
}

// udpAndTCP listens on one loopback port over UDP and TCP.
func udpAndTCP() (net.PacketConn, net.Listener, error) {
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		_ = pc.Close() // the TCP port is taken: try another
	}
	return nil, nil, errors.New("no loopback port free over both UDP and TCP")
}
