// Package collect reads host metrics from /proc and /sys cheaply.
//
// A Collector keeps the hot /proc files open and re-reads them with
// ReadAt(buf, 0) into one reused buffer (a procfs seq_file is regenerated when
// it is read again from offset 0), and parses them as bytes without building
// strings. Mount points and the service's cgroup are re-discovered every
// Options.MountEvery; the process count and the service's open-file count are
// refreshed every Options.SlowEvery.
//
// Metric names (Describe gives unit and Portuguese description, Precision
// the storage quantum):
//
//	cpu.total, cpu.core.<i>                   % busy (all cores / core i)
//	load.1, load.5, load.15                   load average
//	mem.total, mem.used, mem.available        bytes (used = total - available)
//	mem.used_pct, swap.total, swap.used, swap.used_pct
//	disk.<M>.total, .used, .free, .used_pct   per real mount point M, like df
//	io.<D>.read_bps, .write_bps, .read_ops, .write_ops       per block device
//	net.<I>.rx_bps, .tx_bps, .rx_pps, .tx_pps, .rx_errors, .tx_errors,
//	         .rx_drops, .tx_drops             per interface except lo
//	proc.count                                processes
//	self.cpu_pct, self.rss, self.goroutines, self.open_files   this process
//	cgroup.cpu.limit_cores, cgroup.cpu.used_pct                with a cpu.max
//	cgroup.mem.limit, cgroup.mem.current, cgroup.mem.used_pct  with a memory.max
//
// Rates (cpu.*, io.*, net.*, self.cpu_pct, cgroup.cpu.used_pct) need two
// samples and are absent from the first one.
//
// Cost (BenchmarkCollect, real /proc of the development VM: 2 vCPU AMD EPYC,
// kernel 6.18, Go 1.26.8, 50 metrics, simulated 1 s clock so that discovery
// and the slow counts are amortised as in production): 91-112 µs of process
// CPU per sample against a goal of 300 µs, 5 allocations (1.75 KB) per
// sample. Most of it is kernel time generating the /proc files (about 15-20
// µs each for stat, meminfo, diskstats and net/dev). A steady-state sample
// allocates twice (the Metrics slice and one statfs path per mount);
// counting /proc costs about 190 µs every SlowEvery and mount discovery
// about 130 µs every MountEvery.
package collect

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Options configures a Collector. The zero value is ready to use.
type Options struct {
	// ProcRoot is the procfs mount to read; default "/proc".
	ProcRoot string
	// SysRoot is the sysfs mount to read; default "/sys". A cgroup2 mount
	// point found under /sys in mountinfo is mapped under SysRoot.
	SysRoot string
	// CgroupDir overrides the service's cgroup v2 directory (for tests).
	// By default it is discovered from ProcRoot/self/cgroup and the cgroup2
	// mount in ProcRoot/self/mountinfo. When set, limits are looked up in
	// CgroupDir and in its ancestors that hold a cgroup.controllers file.
	CgroupDir string
	// MountEvery is how often mounts (and the cgroup) are re-discovered;
	// default 30s.
	MountEvery time.Duration
	// SlowEvery is how often the process count and the service's own
	// open-file count are refreshed; default 5s.
	SlowEvery time.Duration
}

// Metric is one named value of a Sample.
type Metric struct {
	// Name is a stable dotted name such as "cpu.total" or "disk./.used_pct".
	Name string
	// Value is in the unit returned by Describe(Name).
	Value float64
}

// Sample is the set of metrics read at one instant.
type Sample struct {
	// Time is the instant passed to Collect.
	Time time.Time
	// Metrics is sorted by Name, each name at most once. The slice is
	// freshly allocated by every Collect call and owned by the caller.
	Metrics []Metric
}

// Collector reads host metrics. It keeps files open between samples and
// remembers the previous counters to compute rates. A Collector is not safe
// for concurrent use.
type Collector struct {
	opts Options
	buf  []byte // shared read buffer, grown on demand

	stat, meminfo, loadavg, diskstats, netdev, statm keptFile

	gen      uint64 // number of Collect calls so far; entities remember the gen they were last read in
	prevTime time.Time

	cpuTotal cpuEntity
	cores    []cpuEntity

	mounts      []diskMount
	lastMounts  time.Time
	mountsValid bool
	statfs      func(path string, st *unix.Statfs_t) error // unix.Statfs; replaced in tests
	statfsBuf   unix.Statfs_t

	disks map[string]*blockDev
	nics  map[string]*netIface

	lastSlow  time.Time
	slowValid bool
	procCount int
	procOK    bool
	openFiles int
	openOK    bool

	self selfState
	cg   cgroupState

	swap   [3]Metric // read with meminfo, emitted last to keep name order
	swapOK bool

	scratch []Metric
	order   nameOrder
	errs    []error
}

// readBufSize is the initial size of the shared read buffer; it doubles
// whenever a file does not fit, up to maxReadSize.
const (
	readBufSize = 16 << 10
	maxReadSize = 16 << 20
)

// New returns a Collector for opts. It opens the hot /proc files and fails
// only when none of /proc/stat, /proc/meminfo and /proc/loadavg can be opened.
// Sources that cannot be opened yet are retried on every Collect.
func New(opts Options) (*Collector, error) {
	if opts.ProcRoot == "" {
		opts.ProcRoot = "/proc"
	}
	if opts.SysRoot == "" {
		opts.SysRoot = "/sys"
	}
	if opts.MountEvery <= 0 {
		opts.MountEvery = 30 * time.Second
	}
	if opts.SlowEvery <= 0 {
		opts.SlowEvery = 5 * time.Second
	}
	p := opts.ProcRoot
	c := &Collector{
		opts:      opts,
		buf:       make([]byte, readBufSize),
		stat:      keptFile{path: filepath.Join(p, "stat")},
		meminfo:   keptFile{path: filepath.Join(p, "meminfo")},
		loadavg:   keptFile{path: filepath.Join(p, "loadavg")},
		diskstats: keptFile{path: filepath.Join(p, "diskstats")},
		netdev:    keptFile{path: filepath.Join(p, "net", "dev")},
		statm:     keptFile{path: filepath.Join(p, "self", "statm")},
		statfs:    unix.Statfs,
		disks:     make(map[string]*blockDev),
		nics:      make(map[string]*netIface),
	}
	var errs []error
	opened := 0
	for _, k := range []*keptFile{&c.stat, &c.meminfo, &c.loadavg} {
		if err := k.open(); err != nil {
			errs = append(errs, err)
		} else {
			opened++
		}
	}
	if opened == 0 {
		return nil, fmt.Errorf("collect: no readable proc files under %s: %w", p, errors.Join(errs...))
	}
	// Optional sources: opened lazily by Collect when missing now.
	_ = c.diskstats.open()
	_ = c.netdev.open()
	_ = c.statm.open()
	return c, nil
}

// Collect reads one sample at instant now. Rates are computed from the
// counters of the previous call and the difference between the two `now`
// values; on the first call, and when now is not after the previous call,
// rate metrics are omitted. A source that fails is left out of the sample;
// Collect returns an error only when none of the /proc files could be read
// (the sample then still holds whatever could be computed). SourceErrors
// reports the individual failures of the last call.
func (c *Collector) Collect(now time.Time) (Sample, error) {
	c.gen++
	c.errs = c.errs[:0]
	elapsed := 0.0
	if c.gen > 1 {
		elapsed = now.Sub(c.prevTime).Seconds()
	}
	c.prevTime = now

	if !c.mountsValid || due(now, c.lastMounts, c.opts.MountEvery) {
		c.discover()
		c.lastMounts, c.mountsValid = now, true
	}
	if !c.slowValid || due(now, c.lastSlow, c.opts.SlowEvery) {
		c.refreshSlow()
		c.lastSlow, c.slowValid = now, true
	}

	// Sources in rough name order; nameOrder sorts the result.
	m := c.scratch[:0]
	read := 0
	c.swapOK = false
	m = c.collectCgroup(m, elapsed)
	m, read = c.track(m, read, "stat", c.collectCPU, elapsed)
	m = c.collectMounts(m)
	m, read = c.track(m, read, "diskstats", c.collectDiskstats, elapsed)
	m, read = c.track(m, read, "loadavg", c.collectLoad, elapsed)
	m, read = c.track(m, read, "meminfo", c.collectMem, elapsed)
	m, read = c.track(m, read, "net/dev", c.collectNet, elapsed)
	if c.procOK {
		m = append(m, Metric{"proc.count", float64(c.procCount)})
	}
	m, read = c.collectSelf(m, read, elapsed)
	if c.swapOK {
		m = append(m, c.swap[:]...)
	}
	c.scratch = m
	s := Sample{Time: now, Metrics: c.order.sorted(m)}
	if read == 0 {
		return s, fmt.Errorf("collect: nothing could be read: %w", errors.Join(c.errs...))
	}
	return s, nil
}

// SourceErrors returns the failures of the sources left out of the last
// Collect call, joined, or nil when every source could be read.
func (c *Collector) SourceErrors() error {
	return errors.Join(c.errs...)
}

// Close closes the files the Collector keeps open. The Collector must not be
// used afterwards.
func (c *Collector) Close() error {
	var errs []error
	for _, k := range []*keptFile{&c.stat, &c.meminfo, &c.loadavg, &c.diskstats, &c.netdev, &c.statm, &c.cg.cpuStat, &c.cg.memCurrent} {
		if err := k.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// nameOrder caches how to sort a sequence of metric names. The sources emit
// the same names in the same order sample after sample, so the permutation
// found by the last sort is usually reused as is.
type nameOrder struct {
	names []string // the unsorted sequence perm was computed for
	perm  []int    // sorted position i holds names[perm[i]]
}

// sorted returns a new slice with m sorted by name.
func (o *nameOrder) sorted(m []Metric) []Metric {
	out := make([]Metric, len(m))
	same := len(m) == len(o.names)
	for i := 0; same && i < len(m); i++ {
		same = m[i].Name == o.names[i] // names are reused strings: usually a pointer match
	}
	if !same {
		o.names = o.names[:0]
		o.perm = o.perm[:0]
		for i := range m {
			o.names = append(o.names, m[i].Name)
			o.perm = append(o.perm, i)
		}
		slices.SortStableFunc(o.perm, func(a, b int) int { return strings.Compare(o.names[a], o.names[b]) })
	}
	for i, p := range o.perm {
		out[i] = m[p]
	}
	return out
}

// due reports whether a refresh done at last is older than every, or whether
// the clock went backwards since.
func due(now, last time.Time, every time.Duration) bool {
	d := now.Sub(last)
	return d >= every || d < 0
}

// track runs one /proc source, counting it as read or recording its error.
func (c *Collector) track(m []Metric, read int, name string, f func([]Metric, float64) ([]Metric, error), elapsed float64) ([]Metric, int) {
	m, err := f(m, elapsed)
	if err != nil {
		c.errs = append(c.errs, fmt.Errorf("%s: %w", name, err))
		return m, read
	}
	return m, read + 1
}

// fresh reports whether an entity last read in generation g can yield a rate
// now: it was read in the previous call, and time moved forward since.
func (c *Collector) fresh(g uint64, elapsed float64) bool {
	return elapsed > 0 && g != 0 && g == c.gen-1
}

// refreshSlow counts processes and the service's open files.
func (c *Collector) refreshSlow() {
	n, err := countDir(c.opts.ProcRoot, c.buf, true)
	c.procCount, c.procOK = n, err == nil
	if err != nil {
		c.errs = append(c.errs, fmt.Errorf("process count: %w", err))
	}
	n, err = countDir(filepath.Join(c.opts.ProcRoot, "self", "fd"), c.buf, false)
	c.openFiles, c.openOK = n, err == nil
	if err != nil {
		c.errs = append(c.errs, fmt.Errorf("open files: %w", err))
	}
}

// selfState holds the service's previous CPU time.
type selfState struct {
	cpuUsec int64
	gen     uint64
}

// collectSelf adds the service's own metrics: CPU from getrusage, RSS from
// statm, goroutines, and the open-file count refreshed every SlowEvery.
func (c *Collector) collectSelf(m []Metric, read int, elapsed float64) ([]Metric, int) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		c.errs = append(c.errs, fmt.Errorf("getrusage: %w", err))
	} else {
		usec := ru.Utime.Sec*1e6 + ru.Utime.Usec + ru.Stime.Sec*1e6 + ru.Stime.Usec
		if c.fresh(c.self.gen, elapsed) && usec >= c.self.cpuUsec {
			m = append(m, Metric{"self.cpu_pct", float64(usec-c.self.cpuUsec) / (elapsed * 1e6) * 100})
		}
		c.self.cpuUsec, c.self.gen = usec, c.gen
	}
	m = append(m, Metric{"self.goroutines", float64(runtime.NumGoroutine())})
	if c.openOK {
		m = append(m, Metric{"self.open_files", float64(c.openFiles)})
	}
	if b, err := c.read(&c.statm); err != nil {
		c.errs = append(c.errs, fmt.Errorf("self/statm: %w", err))
	} else {
		// size resident shared text lib data dt, in pages
		_, i := nextField(b, 0)
		f, _ := nextField(b, i)
		if rss, ok := parseUint(f); ok {
			m = append(m, Metric{"self.rss", float64(rss) * float64(os.Getpagesize())})
			read++
		} else {
			c.errs = append(c.errs, errors.New("self/statm: malformed"))
		}
	}
	return m, read
}

// keptFile is a file kept open and re-read from offset 0.
type keptFile struct {
	path string
	f    *os.File
}

func (k *keptFile) open() error {
	f, err := os.Open(k.path)
	if err != nil {
		return err
	}
	k.f = f
	return nil
}

func (k *keptFile) close() error {
	if k.f == nil {
		return nil
	}
	err := k.f.Close()
	k.f = nil
	return err
}

// read returns the current content of k in c.buf (valid until the next read).
// A file that is not open is opened; a read that fails is retried once on a
// fresh descriptor (the file may have been replaced).
func (c *Collector) read(k *keptFile) ([]byte, error) {
	if k.f == nil {
		if err := k.open(); err != nil {
			return nil, err
		}
	}
	b, err := c.readAt(k.f)
	if err == nil {
		return b, nil
	}
	_ = k.close()
	if k.open() != nil {
		return nil, err
	}
	b, err = c.readAt(k.f)
	if err != nil {
		_ = k.close()
		return nil, err
	}
	return b, nil
}

// readAt reads f from offset 0 into c.buf, growing it until the file fits.
func (c *Collector) readAt(f *os.File) ([]byte, error) {
	for {
		n, err := f.ReadAt(c.buf, 0)
		switch {
		case err == io.EOF || (err == nil && n < len(c.buf)):
			return c.buf[:n], nil
		case err != nil:
			return nil, err
		case len(c.buf) >= maxReadSize:
			return nil, fmt.Errorf("%s: larger than %d bytes", f.Name(), maxReadSize)
		}
		c.buf = make([]byte, 2*len(c.buf))
	}
}
