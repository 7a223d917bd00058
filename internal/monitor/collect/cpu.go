package collect

import (
	"bytes"
	"errors"
	"strconv"
)

// cpuTimes is one cpu line of /proc/stat reduced to what a percentage needs,
// in clock ticks.
type cpuTimes struct {
	all  uint64 // user+nice+system+idle+iowait+irq+softirq+steal
	busy uint64 // all - idle - iowait
}

// cpuEntity is the previous reading of one cpu line.
type cpuEntity struct {
	name string // metric name
	prev cpuTimes
	gen  uint64 // Collect generation of prev; 0 = never read
}

// parseCPULine parses a "cpu" or "cpuN" line of /proc/stat. idx is -1 for
// the aggregate line. Guest and guest_nice are left out: the kernel already
// counts them inside user and nice.
func parseCPULine(line []byte) (idx int, t cpuTimes, ok bool) {
	name, i := nextField(line, 0)
	if !bytes.HasPrefix(name, []byte("cpu")) {
		return 0, t, false
	}
	idx = -1
	if len(name) > 3 {
		n, ok := parseUint(name[3:])
		if !ok || n > 1<<20 {
			return 0, t, false
		}
		idx = int(n)
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for k := range v {
		var f []byte
		f, i = nextField(line, i)
		if len(f) == 0 {
			if k < 4 { // user nice system idle are always present
				return 0, t, false
			}
			break
		}
		if v[k], ok = parseUint(f); !ok {
			return 0, t, false
		}
	}
	for _, x := range v {
		t.all += x
	}
	t.busy = t.all - v[3] - v[4]
	return idx, t, true
}

// cpuPct is the busy percentage between two readings, clamped to 0..100.
// It is 0 when no tick elapsed or a counter went backwards.
func cpuPct(prev, cur cpuTimes) float64 {
	if cur.all <= prev.all || cur.busy < prev.busy {
		return 0
	}
	p := 100 * float64(cur.busy-prev.busy) / float64(cur.all-prev.all)
	return min(max(p, 0), 100)
}

// collectCPU adds cpu.total and cpu.core.<i> from /proc/stat.
func (c *Collector) collectCPU(m []Metric, elapsed float64) ([]Metric, error) {
	b, err := c.read(&c.stat)
	if err != nil {
		return m, err
	}
	found := false
	total, haveTotal := Metric{}, false // emitted after the cores, which sort before it
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if !bytes.HasPrefix(line, []byte("cpu")) {
			if found {
				break // the cpu lines come first
			}
			continue
		}
		idx, t, ok := parseCPULine(line)
		if !ok {
			continue
		}
		found = true
		e := &c.cpuTotal
		if idx >= 0 {
			for idx >= len(c.cores) {
				c.cores = append(c.cores, cpuEntity{})
			}
			e = &c.cores[idx]
			if e.name == "" {
				e.name = "cpu.core." + strconv.Itoa(idx)
			}
		} else if e.name == "" {
			e.name = "cpu.total"
		}
		if c.fresh(e.gen, elapsed) {
			mt := Metric{e.name, cpuPct(e.prev, t)}
			if idx < 0 {
				total, haveTotal = mt, true
			} else {
				m = append(m, mt)
			}
		}
		e.prev, e.gen = t, c.gen
	}
	if !found {
		return m, errors.New("no cpu lines")
	}
	if haveTotal {
		m = append(m, total)
	}
	return m, nil
}
