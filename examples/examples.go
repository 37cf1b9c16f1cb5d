// Package examples holds the YAML configs of this directory, each a
// config an SRE can copy; every one of them runs against the farm of
// `fanout demo --farm` in cmd/fanout's tests. Farm is the one the demo
// prints, embedded so that the demo and this directory cannot drift apart.
package examples

import _ "embed"

// Farm is farm.yaml: one healthy check of every kind against the farm.
//
//go:embed farm.yaml
var Farm string
