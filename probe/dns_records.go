package probe

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Record types and rcodes by name, and the canonical form of answers.
// Everything miekg/dns is behind dns.go and this file, so that a move to
// its v2 touches only them.

// dnsCommonTypes are the record types errors suggest.
var dnsCommonTypes = []string{"A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "SOA", "CAA", "PTR", "HTTPS", "SVCB", "TLSA", "DS", "DNSKEY"}

// dnsRecordType returns the canonical name of a record type named in any
// case. Types that are not records but transfers or protocol metadata
// (AXFR, IXFR, OPT, TSIG…) are refused: this is a lookup.
func dnsRecordType(s string) (string, error) {
	name := strings.ToUpper(s)
	t, ok := dns.StringToType[name]
	if ok {
		switch t {
		case dns.TypeAXFR, dns.TypeIXFR, dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY,
			dns.TypeMAILA, dns.TypeMAILB, dns.TypeNone, dns.TypeReserved:
			return "", fmt.Errorf("type %s cannot be looked up", name)
		}
		return name, nil
	}
	msg := fmt.Sprintf("unknown record type %q (want one of %s, or another RR type name)", s, strings.Join(dnsCommonTypes[:10], ", "))
	if best := dnsNearest(name, dnsCommonTypes); best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return "", errors.New(msg)
}

// dnsRcodeName returns the canonical name of an rcode named in any case.
func dnsRcodeName(s string) (string, error) {
	name := strings.ToUpper(s)
	if _, ok := dns.StringToRcode[name]; ok {
		return name, nil
	}
	msg := fmt.Sprintf("unknown rcode %q (want NOERROR, NXDOMAIN, SERVFAIL, REFUSED or another rcode name)", s)
	if best := dnsNearest(name, []string{"NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR", "NOTIMP"}); best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return "", errors.New(msg)
}

// dnsRcodeString names the rcode of an answer.
func dnsRcodeString(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}

// dnsNearest returns the candidate one edit from s, or two from a candidate
// of five letters or more, if any: "AXX" is taken for neither "A" nor
// "TXT".
func dnsNearest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		d := EditDistance(s, c)
		if d < bestDist && (d <= 1 || len(c) >= 5) {
			best, bestDist = c, d
		}
	}
	return best
}

// dnsCanonicalExpect returns an expected answer of type typ in the canonical
// form answers are compared in, by parsing it as the record's data in zone
// file syntax: "10 mx.example.org." and "10 MX.example.org" are one
// answer. A TXT answer is taken as written, chunks already joined.
func dnsCanonicalExpect(typ, value string) (string, error) {
	if typ == "TXT" {
		return value, nil
	}
	if strings.TrimSpace(value) == "" {
		return "", errors.New("empty answer")
	}
	if strings.ContainsAny(value, "\n\r;") {
		return "", fmt.Errorf("%q is not %s record data", value, typ)
	}
	rr, err := dns.NewRR(". 0 IN " + typ + " " + value)
	if err != nil || rr == nil {
		return "", fmt.Errorf("%q is not %s record data", value, typ)
	}
	return dnsPresentation(rr), nil
}

// dnsPresentation returns the data of rr in canonical form: names lower-case
// without their trailing dot, TXT chunks joined, fields separated by one
// space ("10 mx.example.org", "10 5 443 host.example.org", "192.0.2.1").
func dnsPresentation(rr dns.RR) string {
	switch rr := rr.(type) {
	case *dns.A:
		return rr.A.String()
	case *dns.AAAA:
		return rr.AAAA.String()
	case *dns.CNAME:
		return dnsDomain(rr.Target)
	case *dns.NS:
		return dnsDomain(rr.Ns)
	case *dns.PTR:
		return dnsDomain(rr.Ptr)
	case *dns.MX:
		return fmt.Sprintf("%d %s", rr.Preference, dnsDomain(rr.Mx))
	case *dns.SRV:
		return fmt.Sprintf("%d %d %d %s", rr.Priority, rr.Weight, rr.Port, dnsDomain(rr.Target))
	case *dns.SOA:
		return fmt.Sprintf("%s %s %d %d %d %d %d", dnsDomain(rr.Ns), dnsDomain(rr.Mbox),
			rr.Serial, rr.Refresh, rr.Retry, rr.Expire, rr.Minttl)
	case *dns.TXT:
		return strings.Join(rr.Txt, "")
	case *dns.CAA:
		return fmt.Sprintf("%d %s %q", rr.Flag, strings.ToLower(rr.Tag), rr.Value)
	}
	// Any other type: its zone file data, each field lower-case without a
	// trailing dot.
	fields := strings.Fields(strings.TrimPrefix(rr.String(), rr.Header().String()))
	for i, f := range fields {
		fields[i] = dnsDomain(f)
	}
	return strings.Join(fields, " ")
}

// dnsDomain returns a name lower-case without its trailing dot ("." stays).
func dnsDomain(name string) string {
	if name != "." {
		name = strings.TrimSuffix(name, ".")
	}
	return strings.ToLower(name)
}

// dnsAnswersOf returns the canonical answers of type qtype in m, sorted and
// without duplicates; the CNAMEs that lead to them are left out.
func dnsAnswersOf(m *dns.Msg, qtype uint16) []string {
	out := []string{}
	for _, rr := range m.Answer {
		if qtype == dns.TypeANY || rr.Header().Rrtype == qtype {
			out = append(out, dnsPresentation(rr))
		}
	}
	return dnsSortedSet(out)
}

// dnsSortedSet sorts s and drops duplicates.
func dnsSortedSet(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// dnsSameAnswers reports whether two canonical answer sets are equal,
// ignoring case (TXT answers keep theirs in the detail).
func dnsSameAnswers(got, want []string) bool {
	fold := func(s []string) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[i] = strings.ToLower(v)
		}
		return dnsSortedSet(out)
	}
	return slices.Equal(fold(got), fold(want))
}

// dnsQueryName returns the name asked for: name as an absolute lower-case
// name, or, for a PTR lookup of an IP address, its reverse name.
func dnsQueryName(name, typ string) (string, error) {
	if typ == "PTR" && net.ParseIP(name) != nil {
		return dns.ReverseAddr(name)
	}
	fqdn := dns.Fqdn(strings.ToLower(name))
	if _, ok := dns.IsDomainName(fqdn); !ok {
		return "", fmt.Errorf("invalid name %q", name)
	}
	return fqdn, nil
}

// dnsTypeCode returns the code of a type name dnsRecordType accepted.
func dnsTypeCode(typ string) uint16 { return dns.StringToType[typ] }
