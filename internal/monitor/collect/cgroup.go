package collect

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// cgroupState is the service's cgroup v2 directory and its effective limits.
type cgroupState struct {
	dir      string
	cpuCores float64 // effective cpu.max in cores; 0 = no limit
	memLimit uint64  // effective memory.max in bytes; 0 = no limit

	cpuStat    keptFile // dir/cpu.stat, read only when cpuCores > 0
	memCurrent keptFile // dir/memory.current, read only when memLimit > 0

	prevUsage uint64 // usage_usec
	gen       uint64
}

// parseSelfCgroup returns the cgroup v2 path from /proc/self/cgroup (the
// "0::" line); v1 lines are ignored.
func parseSelfCgroup(b []byte) (string, bool) {
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if rest, ok := bytes.CutPrefix(line, []byte("0::")); ok {
			return string(bytes.TrimSpace(rest)), true
		}
	}
	return "", false
}

// cgroupDir maps the cgroup v2 path rel of the process to a directory: the
// cgroup2 mount point (mapped under sysRoot) plus rel without the mount's
// root. It returns the directory and the mount point directory.
func cgroupDir(all []mountInfo, rel, sysRoot string) (dir, mountDir string, ok bool) {
	for _, mi := range all {
		if mi.fstype != "cgroup2" {
			continue
		}
		sub, ok := withinDir(rel, mi.root)
		if !ok {
			continue
		}
		mountDir = mapSys(mi.mountPoint, sysRoot)
		return filepath.Join(mountDir, sub), mountDir, true
	}
	return "", "", false
}

// withinDir returns p relative to dir when p is dir or below it.
func withinDir(p, dir string) (string, bool) {
	if dir == "/" {
		return p, strings.HasPrefix(p, "/")
	}
	if p == dir {
		return "/", true
	}
	if rest, ok := strings.CutPrefix(p, dir); ok && strings.HasPrefix(rest, "/") {
		return rest, true
	}
	return "", false
}

// mapSys maps a path under /sys to the same path under sysRoot.
func mapSys(p, sysRoot string) string {
	if sysRoot == "/sys" {
		return p
	}
	if rest, ok := withinDir(p, "/sys"); ok {
		return filepath.Join(sysRoot, rest)
	}
	return p
}

// effectiveLimits returns the minimum cpu.max (in cores) and memory.max over
// dir and its ancestors. With stop set, the walk ends at stop (the cgroup2
// mount); otherwise it climbs while the parent holds cgroup.controllers. A
// missing file or "max" means no limit at that level; 0 means no limit at all.
func effectiveLimits(dir, stop string) (cores float64, mem uint64) {
	for d := dir; ; {
		if v, ok := readCPUMax(filepath.Join(d, "cpu.max")); ok && (cores == 0 || v < cores) {
			cores = v
		}
		if v, ok := readMemMax(filepath.Join(d, "memory.max")); ok && (mem == 0 || v < mem) {
			mem = v
		}
		parent := filepath.Dir(d)
		if parent == d {
			return cores, mem
		}
		if stop != "" {
			if _, ok := withinDir(parent, stop); !ok {
				return cores, mem
			}
		} else if _, err := os.Stat(filepath.Join(parent, "cgroup.controllers")); err != nil {
			return cores, mem
		}
		d = parent
	}
}

// readCPUMax parses a cpu.max file, "$QUOTA $PERIOD" or "max $PERIOD".
func readCPUMax(path string) (float64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	q, i := nextField(b, 0)
	p, _ := nextField(b, i)
	quota, ok1 := parseUint(q)
	period, ok2 := parseUint(bytes.TrimSpace(p))
	if !ok1 || !ok2 || quota == 0 || period == 0 {
		return 0, false
	}
	return float64(quota) / float64(period), true
}

// readMemMax parses a memory.max file, bytes or "max".
func readMemMax(path string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, ok := parseUint(bytes.TrimSpace(b))
	return v, ok && v > 0
}

// discoverCgroup finds the service's cgroup directory (from Options.CgroupDir,
// or from /proc/self/cgroup and the cgroup2 mount among all) and re-reads the
// effective limits. Without mount information (haveMounts false) a
// discovered cgroup is left as it was.
func (c *Collector) discoverCgroup(all []mountInfo, haveMounts bool) {
	dir, stop := c.opts.CgroupDir, ""
	if dir == "" {
		if !haveMounts {
			return
		}
		b, err := os.ReadFile(filepath.Join(c.opts.ProcRoot, "self", "cgroup"))
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("cgroup discovery: %w", err))
			return
		}
		rel, ok := parseSelfCgroup(b)
		if ok {
			dir, stop, ok = cgroupDir(all, rel, c.opts.SysRoot)
		}
		if !ok {
			c.setCgroup("", 0, 0) // no cgroup v2
			return
		}
	}
	cores, mem := effectiveLimits(dir, stop)
	c.setCgroup(dir, cores, mem)
}

// setCgroup records the cgroup directory and limits, reopening the usage
// files when the directory changed.
func (c *Collector) setCgroup(dir string, cores float64, mem uint64) {
	cg := &c.cg
	if dir != cg.dir {
		_ = cg.cpuStat.close()
		_ = cg.memCurrent.close()
		cg.dir, cg.gen = dir, 0
		cg.cpuStat.path = filepath.Join(dir, "cpu.stat")
		cg.memCurrent.path = filepath.Join(dir, "memory.current")
	}
	cg.cpuCores, cg.memLimit = cores, mem
	if cores == 0 {
		_ = cg.cpuStat.close()
		cg.gen = 0
	}
	if mem == 0 {
		_ = cg.memCurrent.close()
	}
}

// parseCPUStat returns usage_usec from a cgroup cpu.stat file.
func parseCPUStat(b []byte) (uint64, bool) {
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if rest, ok := bytes.CutPrefix(line, []byte("usage_usec ")); ok {
			return parseUint(bytes.TrimSpace(rest))
		}
	}
	return 0, false
}

// collectCgroup adds the cgroup.* metrics when the cgroup has limits.
func (c *Collector) collectCgroup(m []Metric, elapsed float64) []Metric {
	cg := &c.cg
	if cg.cpuCores > 0 {
		m = append(m, Metric{"cgroup.cpu.limit_cores", cg.cpuCores})
		b, err := c.read(&cg.cpuStat)
		usage, ok := uint64(0), false
		if err == nil {
			if usage, ok = parseCPUStat(b); !ok {
				err = errors.New("no usage_usec")
			}
		}
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("cgroup cpu.stat: %w", err))
		} else {
			if c.fresh(cg.gen, elapsed) && usage >= cg.prevUsage {
				pct := float64(usage-cg.prevUsage) / (elapsed * 1e6 * cg.cpuCores) * 100
				m = append(m, Metric{"cgroup.cpu.used_pct", pct})
			}
			cg.prevUsage, cg.gen = usage, c.gen
		}
	}
	if cg.memLimit > 0 {
		b, err := c.read(&cg.memCurrent)
		cur, ok := uint64(0), false
		if err == nil {
			if cur, ok = parseUint(bytes.TrimSpace(b)); !ok {
				err = errors.New("malformed memory.current")
			}
		}
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("cgroup memory.current: %w", err))
		} else {
			m = append(m, Metric{"cgroup.mem.current", float64(cur)})
		}
		m = append(m, Metric{"cgroup.mem.limit", float64(cg.memLimit)})
		if ok {
			m = append(m, Metric{"cgroup.mem.used_pct", 100 * float64(cur) / float64(cg.memLimit)})
		}
	}
	return m
}
