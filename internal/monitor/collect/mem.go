package collect

import (
	"bytes"
	"errors"
)

// memInfo holds the /proc/meminfo fields the collector uses, in bytes.
type memInfo struct {
	total, available, swapTotal, swapFree uint64
	hasAvailable                          bool
}

// parseMeminfo reads MemTotal, MemAvailable, SwapTotal and SwapFree. On
// kernels without MemAvailable, available falls back to
// MemFree+Buffers+Cached.
func parseMeminfo(b []byte) (memInfo, error) {
	var mi memInfo
	var free, buffers, cached uint64
	seen := 0
	for len(b) > 0 && seen < 4 {
		var line []byte
		line, b = nextLine(b)
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		var dst *uint64
		key := true // one of the four fields that end the scan
		switch string(line[:colon]) {
		case "MemTotal":
			dst = &mi.total
		case "MemAvailable":
			dst, mi.hasAvailable = &mi.available, true
		case "SwapTotal":
			dst = &mi.swapTotal
		case "SwapFree":
			dst = &mi.swapFree
		case "MemFree":
			dst, key = &free, false
		case "Buffers":
			dst, key = &buffers, false
		case "Cached":
			dst, key = &cached, false
		default:
			continue
		}
		if key {
			seen++
		}
		f, _ := nextField(line, colon+1)
		v, ok := parseUint(f)
		if !ok {
			return mi, errors.New("malformed line " + string(line))
		}
		*dst = v * 1024 // kB
	}
	if mi.total == 0 {
		return mi, errors.New("no MemTotal")
	}
	if !mi.hasAvailable {
		mi.available = min(free+buffers+cached, mi.total)
	}
	return mi, nil
}

// collectMem adds mem.* and swap.* from /proc/meminfo.
func (c *Collector) collectMem(m []Metric, _ float64) ([]Metric, error) {
	b, err := c.read(&c.meminfo)
	if err != nil {
		return m, err
	}
	mi, err := parseMeminfo(b)
	if err != nil {
		return m, err
	}
	used := mi.total - min(mi.available, mi.total)
	m = append(m,
		Metric{"mem.available", float64(mi.available)},
		Metric{"mem.total", float64(mi.total)},
		Metric{"mem.used", float64(used)},
		Metric{"mem.used_pct", 100 * float64(used) / float64(mi.total)},
	)
	// The swap metrics sort after net.*, proc.* and self.*; the final sort
	// check in Collect puts them in place.
	swapUsed := mi.swapTotal - min(mi.swapFree, mi.swapTotal)
	swapPct := 0.0
	if mi.swapTotal > 0 {
		swapPct = 100 * float64(swapUsed) / float64(mi.swapTotal)
	}
	c.swap = [3]Metric{
		{"swap.total", float64(mi.swapTotal)},
		{"swap.used", float64(swapUsed)},
		{"swap.used_pct", swapPct},
	}
	c.swapOK = true
	return m, nil
}

// collectLoad adds load.1, load.5 and load.15 from /proc/loadavg.
func (c *Collector) collectLoad(m []Metric, _ float64) ([]Metric, error) {
	b, err := c.read(&c.loadavg)
	if err != nil {
		return m, err
	}
	var v [3]float64
	i := 0
	for k := range v {
		var f []byte
		f, i = nextField(b, i)
		var ok bool
		if v[k], ok = parseDecimal(f); !ok {
			return m, errors.New("malformed loadavg")
		}
	}
	return append(m, Metric{"load.1", v[0]}, Metric{"load.15", v[2]}, Metric{"load.5", v[1]}), nil
}
