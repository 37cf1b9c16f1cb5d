package probe

import (
	"net"
	"strings"
)

// hostPort returns the lower-case host:port of host and port, with
// defaultPort filled in when port is empty and an IPv6 address in
// brackets.
func hostPort(host, port, defaultPort string) string {
	if port == "" {
		port = defaultPort
	}
	return net.JoinHostPort(strings.ToLower(host), port)
}
