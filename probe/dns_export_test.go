package probe

// SetResolvConf points a dns check that asks the system's resolver at
// another resolv.conf. For tests only.
func SetResolvConf(c Check, path string) { c.(*DNS).resolvConf = path }
