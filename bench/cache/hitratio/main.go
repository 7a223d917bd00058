// Command hitratio replays the shared cache traces through Painel's cache
// policies and through the popular Go caches at three capacities per trace,
// and writes a Markdown table of hit ratios (bench/cache/RESULTS.md).
//
// Every implementation sees the same single-threaded request stream: Get,
// and on a miss Set (capacity counts entries; every entry weighs 1). The
// libraries that admit and evict asynchronously are made to finish that work
// before the next request, so that none of them is measured while holding
// more entries than its capacity (see bench/cache/README.md):
//
//   - otter v2 runs with a synchronous Executor, so the maintenance that a
//     write schedules (admission, eviction, hill climbing) runs inline;
//   - theine-go is flushed with Cache.Wait after every Set (its writes go
//     through a channel to a maintenance goroutine).
//
// Run from anywhere inside the repository:
//
//	go run ./bench/cache/hitratio            # writes bench/cache/RESULTS.md
//	go run ./bench/cache/hitratio -stats     # trace sizes and LRU/ARC curves
//	go run ./bench/cache/hitratio -runs 1 -async=false -out -   # quick look
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	theine "github.com/Yiling-J/theine-go"
	arc "github.com/hashicorp/golang-lru/arc/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/maypok86/otter/v2"

	"github.com/painel-universal/painel/internal/cache"
	"github.com/painel-universal/painel/internal/cache/sim"
)

// traceSpec is one shared trace and the capacities it is replayed at.
type traceSpec struct {
	Name string
	File string
	Caps []int
	Why  string // why these capacities
}

// The capacities were chosen from `hitratio -stats` (unique keys and the
// exact LRU/ARC curves of each trace); the reasons are printed in RESULTS.md.
var traces = []traceSpec{
	{
		Name: "loop", File: "lirs_loop.gz", Caps: []int{256, 512, 1000},
		Why: "a loop over 1,011 distinct keys: LRU and ARC get 0% at every capacity below the loop length " +
			"(they reach 99.8% at 1,024); a policy that keeps a fixed part of the loop gets ~capacity/1011",
	},
	{
		Name: "multi2", File: "caffeine_lirs_multi2.trace.gz", Caps: []int{1000, 2000, 4000},
		Why: "LIRS multi2: mixed loops and temporal locality, 5.7k distinct keys, at most 78% hits; LRU " +
			"plateaus at ~48-49% between 1k and 2k (where ARC reaches 64%) and nears the maximum at 4k",
	},
	{
		Name: "oltp", File: "arc_oltp.gz", Caps: []int{1000, 10000, 100000},
		Why: "database OLTP (ARC paper), LRU-friendly, 187k distinct keys, at most 80% hits: 1k (LRU 33%), " +
			"10k (61%) and 100k (78%, past the knee)",
	},
	{
		Name: "p3", File: "arc_p3.gz", Caps: []int{10000, 100000, 400000},
		Why: "workstation disk trace (ARC paper), scan-heavy and ARC-friendly, 763k distinct keys, at most " +
			"80% hits: 10k (LRU 2%, ARC 5%), 100k (LRU 29%, ARC 41%: the policies differ most) and 400k (75-77%)",
	},
}

// replayer is one cache under test.
type replayer interface {
	Access(key uint64) bool // Get; on a miss Set; reports the hit
	Len() int               // entries held now, -1 if the cache does not say
	Close()
}

// impl is one column of the table.
type impl struct {
	Name    string
	Library bool // a third-party library (candidate for "best library")
	Ours    bool
	Note    string
	New     func(capacity int) (replayer, error)
	// ForTrace, when set, replaces New for a replayer that must see the whole trace first (OPT).
	ForTrace func(t *loaded, capacity int) (replayer, error)
	Once     bool // deterministic by construction: one replay per cell whatever -runs says
}

var impls = []impl{
	{Name: "ours adaptativo", Ours: true, Note: "cache.NewSimulator(\"adaptativo\", c): the adaptive areas' engine, replayed as the simulator does",
		New: oursSim("adaptativo")},
	{Name: "ours lru", Ours: true, Note: "cache.NewSimulator(\"lru\", c): exact LRU simulator (reference)", New: oursSim("lru")},
	{Name: "ours arc", Ours: true, Note: "cache.NewSimulator(\"arc\", c): ARC simulator (reference)", New: oursSim("arc")},
	{Name: "otter v2", Library: true, Note: "otter.Options{MaximumSize: c, Executor: synchronous}; GetIfPresent, Set", New: newOtter},
	{Name: "theine", Library: true, Note: "theine.NewBuilder(c).Build(); Get, Set(k, v, 1) then Wait()", New: newTheine},
	{Name: "golang-lru LRU", Library: true, Note: "lru.New(c); Get, Add", New: newGolangLRU},
	{Name: "golang-lru ARC", Library: true, Note: "arc.NewARC(c); Get, Add", New: newGolangARC},
	{Name: "OPT", Once: true, Note: "Belady's optimum with bypass (evict, or do not admit, the key used again furthest in the future): the ceiling for any cache of c entries",
		ForTrace: newOPT},
}

// The async variants replay the libraries without flushing, to show how much
// the flush matters (on by default; -async=false drops them); they are never
// used for the ratios or the "best library".
var asyncImpls = []impl{
	{Name: "otter v2 (async)", Note: "default Executor (goroutines), no CleanUp", New: newOtterAsync},
	{Name: "theine (no Wait)", Note: "Set without Wait", New: newTheineNoWait},
}

func oursSim(policy string) func(int) (replayer, error) {
	return func(capacity int) (replayer, error) {
		s, err := cache.NewSimulator(policy, capacity)
		if err != nil {
			return nil, err
		}
		return simReplayer{s}, nil
	}
}

type simReplayer struct{ s sim.Simulator }

func (r simReplayer) Access(k uint64) bool { return r.s.Access(k) }
func (r simReplayer) Len() int {
	if l, ok := r.s.(interface{ Len() int }); ok {
		return l.Len()
	}
	return -1
}
func (r simReplayer) Close() {
	if c, ok := r.s.(interface{ Close() }); ok {
		c.Close()
	}
}

type otterReplayer struct {
	c *otter.Cache[uint64, struct{}]
}

func newOtter(capacity int) (replayer, error) {
	c, err := otter.New(&otter.Options[uint64, struct{}]{
		MaximumSize: capacity,
		Executor:    func(fn func()) { fn() },
	})
	return otterReplayer{c}, err
}

func newOtterAsync(capacity int) (replayer, error) {
	c, err := otter.New(&otter.Options[uint64, struct{}]{MaximumSize: capacity})
	return otterReplayer{c}, err
}

func (r otterReplayer) Access(k uint64) bool {
	if _, ok := r.c.GetIfPresent(k); ok {
		return true
	}
	r.c.Set(k, struct{}{})
	return false
}
func (r otterReplayer) Len() int { return r.c.EstimatedSize() }
func (r otterReplayer) Close()   { r.c.StopAllGoroutines() }

type theineReplayer struct {
	c    *theine.Cache[uint64, struct{}]
	wait bool
}

func newTheine(capacity int) (replayer, error) {
	c, err := theine.NewBuilder[uint64, struct{}](int64(capacity)).Build()
	return theineReplayer{c, true}, err
}

func newTheineNoWait(capacity int) (replayer, error) {
	c, err := theine.NewBuilder[uint64, struct{}](int64(capacity)).Build()
	return theineReplayer{c, false}, err
}

func (r theineReplayer) Access(k uint64) bool {
	if _, ok := r.c.Get(k); ok {
		return true
	}
	r.c.Set(k, struct{}{}, 1)
	if r.wait {
		r.c.Wait()
	}
	return false
}
func (r theineReplayer) Len() int { return r.c.Len() }
func (r theineReplayer) Close()   { r.c.Close() }

type golangLRU struct{ c *lru.Cache[uint64, struct{}] }

func newGolangLRU(capacity int) (replayer, error) {
	c, err := lru.New[uint64, struct{}](capacity)
	return golangLRU{c}, err
}

func (r golangLRU) Access(k uint64) bool {
	if _, ok := r.c.Get(k); ok {
		return true
	}
	r.c.Add(k, struct{}{})
	return false
}
func (r golangLRU) Len() int { return r.c.Len() }
func (r golangLRU) Close()   {}

type golangARC struct {
	c *arc.ARCCache[uint64, struct{}]
}

func newGolangARC(capacity int) (replayer, error) {
	c, err := arc.NewARC[uint64, struct{}](capacity)
	return golangARC{c}, err
}

func (r golangARC) Access(k uint64) bool {
	if _, ok := r.c.Get(k); ok {
		return true
	}
	r.c.Add(k, struct{}{})
	return false
}
func (r golangARC) Len() int { return r.c.Len() }
func (r golangARC) Close()   {}

// result is one replay, or (after aggregate) the median of a cell's replays.
type result struct {
	Trace    string        `json:"trace"`
	Capacity int           `json:"capacity"`
	Impl     string        `json:"impl"`
	Requests int           `json:"requests"`
	Hits     int           `json:"hits"`
	HitRatio float64       `json:"hit_ratio"`      // median over the runs
	Runs     []float64     `json:"run_hit_ratios"` // every run, in order
	MaxHeld  int           `json:"max_held"`       // most entries held after a miss; -1 unknown
	Elapsed  time.Duration `json:"elapsed_ns"`     // median
	Err      string        `json:"error,omitempty"`
}

// spread is the run-to-run range of the hit ratio.
func (r result) spread() float64 {
	if len(r.Runs) == 0 {
		return 0
	}
	return slices.Max(r.Runs) - slices.Min(r.Runs)
}

// aggregate folds the runs of one cell into their median.
func aggregate(runs []result) result {
	for _, r := range runs {
		if r.Err != "" {
			return r
		}
	}
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b result) int { return a.Hits - b.Hits })
	m := sorted[len(sorted)/2]
	m.Runs = nil
	var times []time.Duration
	for _, r := range runs {
		m.Runs = append(m.Runs, r.HitRatio)
		m.MaxHeld = max(m.MaxHeld, r.MaxHeld)
		times = append(times, r.Elapsed)
	}
	slices.Sort(times)
	m.Elapsed = times[len(times)/2]
	return m
}

func replay(lt *loaded, im impl, capacity int) (r result) {
	t := lt.trace
	r.Impl, r.Capacity, r.Requests = im.Name, capacity, t.Len()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			r.Err = fmt.Sprint("panic: ", p)
		}
		r.Elapsed = time.Since(start)
	}()
	var c replayer
	var err error
	if im.ForTrace != nil {
		c, err = im.ForTrace(lt, capacity)
	} else {
		c, err = im.New(capacity)
	}
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer c.Close()
	hits, held := 0, c.Len()
	t.Each(func(k uint64) bool {
		if c.Access(k) {
			hits++
		} else if held >= 0 {
			held = max(held, c.Len())
		}
		return true
	})
	r.MaxHeld = held
	r.Hits = hits
	if r.Requests > 0 {
		r.HitRatio = float64(hits) / float64(r.Requests)
	}
	return r
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

type loaded struct {
	spec   traceSpec
	trace  sim.Trace
	unique int

	nextOnce sync.Once
	next     []int32 // next[i]: position of the next request for the key at i (len when none)
}

// nextUse computes, once, for every request the position of the next request of the same key.
func (t *loaded) nextUse() []int32 {
	t.nextOnce.Do(func() {
		keys := t.trace.Keys()
		next := make([]int32, len(keys))
		last := make(map[uint64]int32, t.unique)
		for i := len(keys) - 1; i >= 0; i-- {
			if j, ok := last[keys[i]]; ok {
				next[i] = j
			} else {
				next[i] = int32(len(keys))
			}
			last[keys[i]] = int32(i)
		}
		t.next = next
	})
	return t.next
}

// optReplayer is Belady's MIN with bypass: on a miss with the cache full it
// drops whichever of the cached keys and the new key is requested again
// furthest in the future (the new key is simply not admitted when that is
// it). No online policy can get more hits with capacity entries.
type optReplayer struct {
	next     []int32
	pos      int
	capacity int
	at       map[uint64]int32 // cached key -> its next request
	heap     []optItem        // max-heap on next; stale items skipped lazily
}

type optItem struct {
	next int32
	key  uint64
}

func newOPT(t *loaded, capacity int) (replayer, error) {
	if t.trace.Len() >= math.MaxInt32 {
		return nil, errors.New("trace too long for OPT")
	}
	return &optReplayer{next: t.nextUse(), capacity: capacity, at: make(map[uint64]int32, capacity)}, nil
}

func (o *optReplayer) push(it optItem) {
	o.heap = append(o.heap, it)
	for i := len(o.heap) - 1; i > 0; {
		p := (i - 1) / 2
		if o.heap[p].next >= o.heap[i].next {
			break
		}
		o.heap[p], o.heap[i] = o.heap[i], o.heap[p]
		i = p
	}
}

func (o *optReplayer) pop() optItem {
	top := o.heap[0]
	n := len(o.heap) - 1
	o.heap[0] = o.heap[n]
	o.heap = o.heap[:n]
	for i := 0; ; {
		l, big := 2*i+1, i
		if l < n && o.heap[l].next > o.heap[big].next {
			big = l
		}
		if r := l + 1; r < n && o.heap[r].next > o.heap[big].next {
			big = r
		}
		if big == i {
			break
		}
		o.heap[i], o.heap[big] = o.heap[big], o.heap[i]
		i = big
	}
	return top
}

// top drops stale items and returns the live item used furthest in the future.
func (o *optReplayer) top() optItem {
	for {
		it := o.heap[0]
		if n, ok := o.at[it.key]; ok && n == it.next {
			return it
		}
		o.pop()
	}
}

func (o *optReplayer) Access(k uint64) bool {
	nx := o.next[o.pos]
	o.pos++
	if _, ok := o.at[k]; ok {
		o.at[k] = nx
		o.push(optItem{nx, k})
		o.compact()
		return true
	}
	if len(o.at) >= o.capacity {
		if far := o.top(); far.next <= nx {
			return false // bypass: the new key is the one needed last
		}
		victim := o.pop()
		delete(o.at, victim.key)
	}
	o.at[k] = nx
	o.push(optItem{nx, k})
	o.compact()
	return false
}

// compact rebuilds the heap from the live entries when stale ones dominate.
func (o *optReplayer) compact() {
	if len(o.heap) < 4*o.capacity+1024 {
		return
	}
	o.heap = o.heap[:0]
	for k, n := range o.at {
		o.push(optItem{n, k})
	}
}

func (o *optReplayer) Len() int { return len(o.at) }
func (o *optReplayer) Close()   {}

func main() {
	tracesDir := flag.String("traces", "", "trace folder (default: ../shared/data/cache-traces from the repository root)")
	out := flag.String("out", "", "Markdown output (default: bench/cache/RESULTS.md in the repository; - for stdout)")
	jsonOut := flag.String("json", "", "also write the raw results as JSON to this file")
	only := flag.String("only", "", "comma-separated trace names to replay (default all)")
	workers := flag.Int("j", runtime.GOMAXPROCS(0), "replays run in parallel")
	runs := flag.Int("runs", 3, "replays of every cell; the table shows the median (otter and theine randomise admission)")
	async := flag.Bool("async", true, "add the unflushed variants of otter and theine (columns for comparison only)")
	stats := flag.Bool("stats", false, "print trace sizes and exact LRU/ARC hit ratios over a grid of capacities, then exit")
	flag.Parse()

	root, err := repoRoot()
	if err != nil {
		fatal(err)
	}
	if *tracesDir == "" {
		*tracesDir = filepath.Join(root, "..", "shared", "data", "cache-traces")
	}
	if *out == "" {
		*out = filepath.Join(root, "bench", "cache", "RESULTS.md")
	}

	var specs []traceSpec
	for _, s := range traces {
		if *only == "" || slices.Contains(strings.Split(*only, ","), s.Name) {
			specs = append(specs, s)
		}
	}
	if len(specs) == 0 {
		fatal(fmt.Errorf("no trace matches -only %q", *only))
	}

	t0 := time.Now()
	ts := make([]*loaded, len(specs))
	for i, s := range specs {
		t, err := sim.ReadTraceFile(filepath.Join(*tracesDir, s.File), sim.FormatAuto)
		if err != nil {
			fatal(err)
		}
		seen := make(map[uint64]struct{})
		t.Each(func(k uint64) bool { seen[k] = struct{}{}; return true })
		ts[i] = &loaded{spec: s, trace: t, unique: len(seen)}
		fmt.Fprintf(os.Stderr, "%s: %d requests, %d distinct keys\n", s.Name, t.Len(), len(seen))
	}

	if *stats {
		printStats(ts)
		return
	}

	cols := slices.Clone(impls)
	if *async {
		cols = append(cols, asyncImpls...)
	}

	type job struct {
		t         *loaded
		im        impl
		cap       int
		cell, run int
	}
	var jobs []job
	var raw [][]result
	for _, t := range ts {
		for _, c := range t.spec.Caps {
			for _, im := range cols {
				n := max(1, *runs)
				if im.Once {
					n = 1
				}
				for run := 0; run < n; run++ {
					jobs = append(jobs, job{t: t, im: im, cap: c, cell: len(raw), run: run})
				}
				raw = append(raw, make([]result, n))
			}
		}
	}
	// Longest first, so the pool ends together.
	order := slices.Clone(jobs)
	slices.SortStableFunc(order, func(a, b job) int { return b.t.trace.Len() - a.t.trace.Len() })

	ch := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < max(1, *workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				r := replay(j.t, j.im, j.cap)
				r.Trace = j.t.spec.Name
				raw[j.cell][j.run] = r
				mu.Lock()
				done++
				fmt.Fprintf(os.Stderr, "[%3d/%d] %-7s %7d %-18s %.4f  %6.2fs %s\n", done, len(jobs),
					r.Trace, r.Capacity, r.Impl, r.HitRatio, r.Elapsed.Seconds(), r.Err)
				mu.Unlock()
			}
		}()
	}
	for _, j := range order {
		ch <- j
	}
	close(ch)
	wg.Wait()
	total := time.Since(t0)
	results := make([]result, len(raw))
	for i, rs := range raw {
		results[i] = aggregate(rs)
	}

	if *jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fatal(err)
		}
	}

	var w io.Writer = os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		w = f
	}
	writeMarkdown(w, ts, cols, results, total, *workers, max(1, *runs))
	if *out != "-" {
		fmt.Fprintf(os.Stderr, "wrote %s in %s\n", *out, total.Round(time.Second))
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "hitratio:", err)
	os.Exit(1)
}

func printStats(ts []*loaded) {
	for _, t := range ts {
		fmt.Printf("\n%s (%s): %d requests, %d distinct keys\n", t.spec.Name, t.spec.File, t.trace.Len(), t.unique)
		fmt.Printf("%10s %8s %8s\n", "capacity", "lru", "arc")
		var grid []int
		for c := 64; c < 2*t.unique; c *= 2 {
			grid = append(grid, c)
		}
		grid = append(grid, t.spec.Caps...)
		slices.Sort(grid)
		grid = slices.Compact(grid)
		for _, c := range grid {
			l, _ := sim.NewSimulator(sim.PolicyLRU, c)
			a, _ := sim.NewSimulator(sim.PolicyARC, c)
			fmt.Printf("%10d %8.4f %8.4f\n", c, sim.Run(t.trace, l).HitRatio, sim.Run(t.trace, a).HitRatio)
		}
	}
}

func moduleVersions() map[string]string {
	v := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			v[d.Path] = d.Version
		}
	}
	return v
}

func writeMarkdown(w io.Writer, ts []*loaded, cols []impl, results []result, total time.Duration, workers, runs int) {
	get := func(trace string, capacity int, name string) (result, bool) {
		for _, r := range results {
			if r.Trace == trace && r.Capacity == capacity && r.Impl == name {
				return r, r.Err == ""
			}
		}
		return result{}, false
	}
	const ours, ref = "ours adaptativo", "otter v2"

	vers := moduleVersions()
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }

	p("# Cache hit ratios on the shared traces\n\n")
	p("Generated by `go run ./bench/cache/hitratio` (%s, %s, GOMAXPROCS %d, %d replays in parallel, %s in all). "+
		"Every cell is the median of %d replays: otter and theine randomise admission a little, so their cells move "+
		"by up to the spread shown below from run to run; the others are deterministic. Hit ratios do not depend on CPU speed.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.Version(), runtime.GOMAXPROCS(0), workers, total.Round(time.Second), runs)
	p("Single-threaded replay: Get, on a miss Set; capacity in entries, every entry weighs 1. ")
	p("Libraries: otter %s, theine-go %s, golang-lru/v2 %s, golang-lru/arc/v2 %s.\n\n",
		vers["github.com/maypok86/otter/v2"], vers["github.com/Yiling-J/theine-go"],
		vers["github.com/hashicorp/golang-lru/v2"], vers["github.com/hashicorp/golang-lru/arc/v2"])

	p("| column | what runs |\n| --- | --- |\n")
	for _, c := range cols {
		p("| %s | %s |\n", c.Name, c.Note)
	}
	p("\nThe *(async)* and *(no Wait)* columns, when present, replay the same libraries without flushing: between " +
		"maintenance passes they hold more entries than their capacity (see *Entries held*) and their results vary " +
		"from run to run, so they are shown only to size that effect and never enter the ratios.\n")
	p("\n## Traces and capacities\n\n| trace | file | requests | distinct keys | capacities | why |\n| --- | --- | ---: | ---: | --- | --- |\n")
	for _, t := range ts {
		cs := make([]string, len(t.spec.Caps))
		for i, c := range t.spec.Caps {
			cs[i] = fmt.Sprint(c)
		}
		p("| %s | `%s` | %d | %d | %s | %s |\n", t.spec.Name, t.spec.File, t.trace.Len(), t.unique, strings.Join(cs, ", "), t.spec.Why)
	}

	p("\n## Hit ratios (%%)\n\n")
	p("Bold: the best library in the row. Flags on *ours adaptativo*: ")
	p("**⚠ <0.98×** = below 0.98× otter; **▼ n pp** = more than 0.5 pp below the best library. ")
	p("**†** (any column) = more hits than OPT, which no cache holding at most `capacity` entries can get: " +
		"that cache was measured while holding more entries than its capacity.\n\n")
	p("| trace | capacity |")
	for _, c := range cols {
		p(" %s |", c.Name)
	}
	p(" ours / otter | best library | flags |\n|---|---:|")
	for range cols {
		p("---:|")
	}
	p("---:|---|---|\n")

	var logSum float64
	var nRatio, nBelow98, nBelowBest int
	for _, t := range ts {
		for _, c := range t.spec.Caps {
			best, bestName := -1.0, ""
			for _, im := range cols {
				if r, ok := get(t.spec.Name, c, im.Name); ok && im.Library && r.HitRatio > best {
					best, bestName = r.HitRatio, im.Name
				}
			}
			opt, okOPT := get(t.spec.Name, c, "OPT")
			aboveOPT := func(r result) bool { return okOPT && r.Hits > opt.Hits }
			p("| %s | %d |", t.spec.Name, c)
			for _, im := range cols {
				r, ok := get(t.spec.Name, c, im.Name)
				dagger := ""
				if ok && aboveOPT(r) {
					dagger = " †"
				}
				switch {
				case !ok:
					p(" error |")
				case im.Library && r.HitRatio == best:
					p(" **%.2f**%s |", 100*r.HitRatio, dagger)
				default:
					p(" %.2f%s |", 100*r.HitRatio, dagger)
				}
			}
			o, ok1 := get(t.spec.Name, c, ours)
			x, ok2 := get(t.spec.Name, c, ref)
			var flags []string
			if ok1 && aboveOPT(o) {
				flags = append(flags, "† above OPT")
			}
			if ok1 && ok2 && x.HitRatio > 0 {
				ratio := o.HitRatio / x.HitRatio
				if o.HitRatio > 0 {
					logSum += math.Log(ratio)
					nRatio++
				}
				p(" %.3f× |", ratio)
				if ratio < 0.98 {
					flags = append(flags, "⚠ <0.98×")
					nBelow98++
				}
			} else {
				p(" – |")
			}
			if ok1 && best >= 0 {
				p(" %s %.2f |", bestName, 100*best)
				if gap := 100 * (best - o.HitRatio); gap > 0.5 {
					flags = append(flags, fmt.Sprintf("▼ %.2f pp", gap))
					nBelowBest++
				}
			} else {
				p(" – |")
			}
			p(" %s |\n", strings.Join(flags, " "))
		}
	}
	geo := math.NaN()
	if nRatio > 0 {
		geo = math.Exp(logSum / float64(nRatio))
	}
	p("\n**Geometric mean of ours / otter over %d cells: %.4f×** (goal ≥ 1.00×). ", nRatio, geo)
	p("Cells below 0.98× otter: %d (goal 0). Cells more than 0.5 pp below the best library: %d (stretch goal 0).\n", nBelow98, nBelowBest)

	// Geometric mean of every column against otter, for context.
	p("\n| column | geometric mean vs otter |\n| --- | ---: |\n")
	for _, im := range cols {
		var s float64
		n := 0
		for _, t := range ts {
			for _, c := range t.spec.Caps {
				r, ok1 := get(t.spec.Name, c, im.Name)
				x, ok2 := get(t.spec.Name, c, ref)
				if ok1 && ok2 && r.HitRatio > 0 && x.HitRatio > 0 {
					s += math.Log(r.HitRatio / x.HitRatio)
					n++
				}
			}
		}
		if n > 0 {
			p("| %s | %.4f× (%d cells) |\n", im.Name, math.Exp(s/float64(n)), n)
		}
	}

	p("\n## Run-to-run spread\n\nLargest max − min of the hit ratio over the %d replays of a cell, per column (pp).\n\n"+
		"| column | largest spread (pp) | where |\n| --- | ---: | --- |\n", runs)
	for _, im := range cols {
		worst, where := 0.0, ""
		for _, r := range results {
			if r.Impl == im.Name && r.Err == "" && r.spread() > worst {
				worst, where = r.spread(), fmt.Sprintf("%s %d", r.Trace, r.Capacity)
			}
		}
		p("| %s | %.2f | %s |\n", im.Name, 100*worst, where)
	}

	p("\n## Replay time (s, median wall clock, noisy; for keeping the run bounded)\n\n| trace | capacity |")
	for _, c := range cols {
		p(" %s |", c.Name)
	}
	p("\n|---|---:|")
	for range cols {
		p("---:|")
	}
	p("\n")
	for _, t := range ts {
		for _, c := range t.spec.Caps {
			p("| %s | %d |", t.spec.Name, c)
			for _, im := range cols {
				r, _ := get(t.spec.Name, c, im.Name)
				p(" %.2f |", r.Elapsed.Seconds())
			}
			p("\n")
		}
	}
	p("\n## Entries held\n\nThe most entries each cache held right after a miss (Set returned), over every cell, " +
		"as a multiple of the capacity: above 1.00 the cache was measured while larger than it was asked to be.\n\n" +
		"| column | max held / capacity | where |\n| --- | ---: | --- |\n")
	for _, im := range cols {
		worst, where := -1.0, ""
		for _, r := range results {
			if r.Impl == im.Name && r.Err == "" && r.MaxHeld >= 0 {
				if f := float64(r.MaxHeld) / float64(r.Capacity); f > worst {
					worst, where = f, fmt.Sprintf("%s %d (%d entries)", r.Trace, r.Capacity, r.MaxHeld)
				}
			}
		}
		if worst < 0 {
			p("| %s | not exposed | |\n", im.Name)
		} else {
			p("| %s | %.3f | %s |\n", im.Name, worst, where)
		}
	}

	var errs []string
	for _, r := range results {
		if r.Err != "" {
			errs = append(errs, fmt.Sprintf("- %s %d %s: %s", r.Trace, r.Capacity, r.Impl, r.Err))
		}
	}
	if len(errs) > 0 {
		p("\n## Errors\n\n%s\n", strings.Join(errs, "\n"))
	}
}
