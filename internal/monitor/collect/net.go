package collect

import "bytes"

// nNetCounters is the number of /proc/net/dev counters the collector uses.
const nNetCounters = 8

// netSuffixes names the counters, in metric name order.
var netSuffixes = [nNetCounters]string{".rx_bps", ".rx_drops", ".rx_errors", ".rx_pps", ".tx_bps", ".tx_drops", ".tx_errors", ".tx_pps"}

// netIface is one /proc/net/dev interface.
type netIface struct {
	names [nNetCounters]string
	prev  [nNetCounters]uint64
	gen   uint64
}

// parseNetDevLine returns the interface name and its counters in
// netSuffixes order. The header lines do not parse.
//
//	eth0: 239257964 10862 0 0 0 0 0 0 775914 7179 0 0 0 0 0 0
func parseNetDevLine(line []byte) (name []byte, v [nNetCounters]uint64, ok bool) {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return nil, v, false
	}
	name = bytes.TrimSpace(line[:colon])
	// rx: bytes packets errs drop fifo frame compressed multicast
	// tx: bytes packets errs drop fifo colls carrier compressed
	var f [12]uint64
	i := colon + 1
	for k := range f {
		var x []byte
		x, i = nextField(line, i)
		if f[k], ok = parseUint(x); !ok {
			return nil, v, false
		}
	}
	return name, [nNetCounters]uint64{f[0], f[3], f[2], f[1], f[8], f[11], f[10], f[9]}, len(name) > 0
}

// collectNet adds net.<I>.* rates from /proc/net/dev, skipping lo.
func (c *Collector) collectNet(m []Metric, elapsed float64) ([]Metric, error) {
	b, err := c.read(&c.netdev)
	if err != nil {
		return m, err
	}
	seen := 0
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		name, v, ok := parseNetDevLine(line)
		if !ok || string(name) == "lo" {
			continue
		}
		n := c.nics[string(name)]
		if n == nil {
			s := string(name)
			n = &netIface{}
			for k, suf := range netSuffixes {
				n.names[k] = "net." + s + suf
			}
			c.nics[s] = n
		}
		seen++
		if c.fresh(n.gen, elapsed) {
			for k := range v {
				if v[k] < n.prev[k] {
					continue // counter reset: no rate this time
				}
				m = append(m, Metric{n.names[k], float64(v[k]-n.prev[k]) / elapsed})
			}
		}
		n.prev, n.gen = v, c.gen
	}
	if len(c.nics) > seen { // some interfaces went away
		for k, n := range c.nics {
			if n.gen != c.gen {
				delete(c.nics, k)
			}
		}
	}
	return m, nil
}
