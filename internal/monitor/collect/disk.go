package collect

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// mountInfo is one line of /proc/<pid>/mountinfo.
type mountInfo struct {
	majMin     string // field 3, "major:minor"
	root       string // field 4, the mount's root within its filesystem
	mountPoint string // field 5, unescaped
	fstype     string // first field after " - "
}

// parseMountinfo parses mountinfo lines; malformed lines are skipped.
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
func parseMountinfo(b []byte) []mountInfo {
	var out []mountInfo
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		var f [5][]byte
		i := 0
		for k := range f {
			f[k], i = nextField(line, i)
		}
		if len(f[4]) == 0 {
			continue
		}
		// Optional fields follow until the "-" separator.
		var fstype []byte
		for {
			var x []byte
			x, i = nextField(line, i)
			if len(x) == 0 {
				break
			}
			if string(x) == "-" {
				fstype, _ = nextField(line, i)
				break
			}
		}
		if len(fstype) == 0 {
			continue
		}
		out = append(out, mountInfo{
			majMin:     string(f[2]),
			root:       unescapeMount(f[3]),
			mountPoint: unescapeMount(f[4]),
			fstype:     string(fstype),
		})
	}
	return out
}

// unescapeMount decodes the octal escapes (\040 for a space, \011, \012,
// \134) the kernel writes in mountinfo paths.
func unescapeMount(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && isOctal(b[i+1]) && isOctal(b[i+2]) && isOctal(b[i+3]) {
			out = append(out, (b[i+1]-'0')<<6|(b[i+2]-'0')<<3|(b[i+3]-'0'))
			i += 3
			continue
		}
		out = append(out, b[i])
	}
	return string(out)
}

func isOctal(ch byte) bool { return ch >= '0' && ch <= '7' }

// ignoredFSTypes is node_exporter's default filesystem type exclusion list,
// plus tmpfs. overlay is kept when mounted at "/" (a container's root).
var ignoredFSTypes = map[string]bool{
	"autofs": true, "binfmt_misc": true, "bpf": true, "cgroup": true, "cgroup2": true,
	"configfs": true, "debugfs": true, "devpts": true, "devtmpfs": true, "fusectl": true,
	"hugetlbfs": true, "iso9660": true, "mqueue": true, "nsfs": true, "overlay": true,
	"proc": true, "procfs": true, "pstore": true, "rpc_pipefs": true, "securityfs": true,
	"selinuxfs": true, "squashfs": true, "erofs": true, "sysfs": true, "tracefs": true,
	"tmpfs": true,
}

// ignoredMountPoints is node_exporter's default mount point exclusion list.
var ignoredMountPoints = regexp.MustCompile(`^/(dev|proc|sys|run/credentials/.+|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`)

// realMounts picks the mount points worth a statfs: real filesystems, one
// per device (the first one listed wins), no bind mounts (whose root is not
// "/"; btrfs is exempt because its root field names the subvolume).
func realMounts(all []mountInfo) []string {
	seen := make(map[string]bool)
	var out []string
	for _, mi := range all {
		switch {
		case mi.fstype == "overlay" && mi.mountPoint == "/":
		case ignoredFSTypes[mi.fstype], ignoredMountPoints.MatchString(mi.mountPoint):
			continue
		}
		if mi.root != "/" && mi.fstype != "btrfs" {
			continue
		}
		if seen[mi.majMin] {
			continue
		}
		seen[mi.majMin] = true
		out = append(out, mi.mountPoint)
	}
	return out
}

// diskMount is one mount point with its precomputed metric names.
type diskMount struct {
	path  string
	names [4]string // free, total, used, used_pct (name order)
}

// setMounts replaces the mount list, reusing the names of known mounts.
func (c *Collector) setMounts(paths []string) {
	old := make(map[string]diskMount, len(c.mounts))
	for _, d := range c.mounts {
		old[d.path] = d
	}
	ms := make([]diskMount, 0, len(paths))
	for _, p := range paths {
		d, ok := old[p]
		if !ok {
			pre := "disk." + p
			d = diskMount{path: p, names: [4]string{pre + ".free", pre + ".total", pre + ".used", pre + ".used_pct"}}
		}
		ms = append(ms, d)
	}
	slices.SortFunc(ms, func(a, b diskMount) int { return strings.Compare(a.names[0], b.names[0]) })
	c.mounts = ms
}

// discover re-reads mountinfo for the mount list and the cgroup2 mount, and
// re-discovers the service's cgroup and its limits.
func (c *Collector) discover() {
	b, err := os.ReadFile(filepath.Join(c.opts.ProcRoot, "self", "mountinfo"))
	if err != nil {
		c.errs = append(c.errs, fmt.Errorf("mount discovery: %w", err))
		c.discoverCgroup(nil, false)
		return
	}
	all := parseMountinfo(b)
	c.setMounts(realMounts(all))
	c.discoverCgroup(all, true)
}

// collectMounts adds disk.<M>.* for every mount, like df: used =
// blocks-bfree, free = bavail, used_pct = used/(used+free).
func (c *Collector) collectMounts(m []Metric) []Metric {
	st := &c.statfsBuf // not a local: it would escape through the c.statfs call
	for i := range c.mounts {
		d := &c.mounts[i]
		if err := c.statfs(d.path, st); err != nil {
			c.errs = append(c.errs, &os.PathError{Op: "statfs", Path: d.path, Err: err})
			continue
		}
		if st.Blocks == 0 {
			continue // nothing to report for an empty filesystem
		}
		bs := uint64(st.Frsize)
		if bs == 0 {
			bs = uint64(st.Bsize)
		}
		used := (st.Blocks - min(st.Bfree, st.Blocks)) * bs
		free := st.Bavail * bs
		pct := 0.0
		if used+free > 0 {
			pct = 100 * float64(used) / float64(used+free)
		}
		m = append(m,
			Metric{d.names[0], float64(free)},
			Metric{d.names[1], float64(st.Blocks * bs)},
			Metric{d.names[2], float64(used)},
			Metric{d.names[3], pct},
		)
	}
	return m
}

// blockDev is one /proc/diskstats device.
type blockDev struct {
	skip  bool      // loop, ram, zram or a partition
	names [4]string // read_bps, read_ops, write_bps, write_ops (name order)
	prev  [4]uint64 // sectors read, reads, sectors written, writes
	gen   uint64
}

// skipBlockDev reports whether a diskstats device is left out: loop*, ram*,
// zram*, and partitions (which have a "partition" file in sysfs).
func skipBlockDev(sysRoot, name string) bool {
	if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "zram") {
		return true
	}
	// sysfs spells a "/" in a device name (cciss/c0d0) as "!".
	_, err := os.Stat(filepath.Join(sysRoot, "class", "block", strings.ReplaceAll(name, "/", "!"), "partition"))
	return err == nil
}

// parseDiskstatsLine returns the device name and its sectors read, reads,
// sectors written and writes.
//
//	254       0 vda 104338 11015 3880818 89417 31915 45095 6251648 31411 ...
func parseDiskstatsLine(line []byte) (name []byte, v [4]uint64, ok bool) {
	_, i := nextField(line, 0) // major
	_, i = nextField(line, i)  // minor
	name, i = nextField(line, i)
	var f [7]uint64 // reads, merged, sectors read, ms, writes, merged, sectors written
	for k := range f {
		var x []byte
		x, i = nextField(line, i)
		if f[k], ok = parseUint(x); !ok {
			return nil, v, false
		}
	}
	return name, [4]uint64{f[2], f[0], f[6], f[4]}, len(name) > 0
}

// collectDiskstats adds io.<D>.* rates from /proc/diskstats.
func (c *Collector) collectDiskstats(m []Metric, elapsed float64) ([]Metric, error) {
	b, err := c.read(&c.diskstats)
	if err != nil {
		return m, err
	}
	seen := 0
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		name, v, ok := parseDiskstatsLine(line)
		if !ok {
			continue
		}
		d := c.disks[string(name)]
		if d == nil {
			s := string(name)
			d = &blockDev{skip: skipBlockDev(c.opts.SysRoot, s)}
			pre := "io." + s
			d.names = [4]string{pre + ".read_bps", pre + ".read_ops", pre + ".write_bps", pre + ".write_ops"}
			c.disks[s] = d
		}
		seen++
		if d.skip {
			d.gen = c.gen
			continue
		}
		if c.fresh(d.gen, elapsed) {
			for k := range v {
				if v[k] < d.prev[k] {
					continue // counter reset: no rate this time
				}
				x := float64(v[k]-d.prev[k]) / elapsed
				if k%2 == 0 {
					x *= 512 // sectors are always 512 bytes here
				}
				m = append(m, Metric{d.names[k], x})
			}
		}
		d.prev, d.gen = v, c.gen
	}
	if len(c.disks) > seen { // some devices went away
		for k, d := range c.disks {
			if d.gen != c.gen {
				delete(c.disks, k)
			}
		}
	}
	return m, nil
}
