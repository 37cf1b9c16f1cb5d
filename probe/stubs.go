package probe

import (
	"fmt"
	"net/url"
)

// notBuilt stands for a kind whose file is not written yet.
type notBuilt string

func (n notBuilt) Build(*url.URL) (Check, error) {
	return nil, fmt.Errorf("the %s kind is not built yet", string(n))
}

func newTLSSpec() Spec  { return notBuilt("tls") }
func newDNSSpec() Spec  { return notBuilt("dns") }
func newGRPCSpec() Spec { return notBuilt("grpc") }
func newExecSpec() Spec { return notBuilt("exec") }
