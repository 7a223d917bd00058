package policy

import (
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/painel-universal/painel/internal/cache/sim"
)

// Engines the adaptive policy can run.
const (
	engWTinyLFU = iota // otter v2 (the adaptive wrapper)
	engARC             // weighted ARC (arcOrder)
	engLRU             // exact LRU (lruOrder)
	numEngines
)

var engineNames = [numEngines]string{"w-tinylfu", "arc", "lru"}

// engine is a live engine of the adaptive policy.
type engine interface {
	Cache
	// drain empties the engine, reporting expired entries, and returns the live ones (coldest
	// first when the engine has an order), unreported: they move to the next engine.
	drain() []*Entry
}

type engineRef struct {
	c    engine
	tl   *adaptive // c when it is the W-TinyLFU engine: Get calls it directly
	kind int
}

func newRef(c engine, kind int) *engineRef {
	r := &engineRef{c: c, kind: kind}
	r.tl, _ = c.(*adaptive)
	return r
}

// Tuning of the adaptive choice; see switcher.
const (
	// miniTarget is the capacity, in entries, of the miniature simulations: the sampling rate
	// is R = min(1, miniTarget/C) for a cache of C entries.
	miniTarget = 8192
	// maxSharedRate caps the sampling rate of a cache shared by goroutines (not of the
	// unit-weight simulator): at most 1 Get in 64 takes the simulations' mutex, so that
	// parallel Gets stay close to otter's own throughput. Below 8192·64 entries the
	// miniatures then hold C/64 entries.
	maxSharedRate = 1.0 / 64
	// minWindow is the least number of sampled accesses between two comparisons.
	minWindow = 4000
	// switchMargin: another engine must beat the live one by this much hit ratio;
	// leaveTinyLFUMargin when the live one is W-TinyLFU, whose miniature warms up slowest (its
	// frequency sketch and hill climber start empty) and which a switch back restarts cold.
	switchMargin       = 0.01
	leaveTinyLFUMargin = 0.03
	// scoreDecay weighs the previous windows' hits at every comparison.
	scoreDecay = 0.95
	// The windows of the first max(warmupWindows windows, warmupMinis × the miniature
	// capacity) sampled accesses are discarded: the miniatures are filling, and W-TinyLFU's
	// sketch (sampled over 10× its capacity) is still learning.
	warmupWindows = 4
	warmupMinis   = 10
	// minDwell is the least number of windows between two switches.
	minDwell = 8
	// assumedWeight is the mean entry weight assumed before the cache holds 64 entries, to
	// estimate the capacity in entries of a cache bounded in bytes.
	assumedWeight = 1024
	// sampleBits: a key is sampled when the top sampleBits bits of its hash are below R·2^sampleBits.
	sampleBits = 24
)

var sampleSeed = maphash.MakeSeed()

// switcher is the "adaptativo" policy: a live engine (W-TinyLFU at first) that it replaces by
// another, migrating the entries, when miniature simulations say that the other does better on
// the current workload.
//
// Sampling. A Get hashes its key (maphash); the key is in the spatial sample when the top 24
// bits of the hash fall below R·2^24, R = min(1, 8192/C) (and at most 1/64 for a shared cache,
// see maxSharedRate; the unit-weight simulator is not capped), C the capacity in entries (MaxItems,
// or MaxBytes over the mean entry weight, 1 KiB assumed until 64 entries are stored, whichever
// is smaller; re-estimated at every comparison and the simulations restarted when it moves by
// more than 2×). So small caches (C <= 8192) simulate every access at full size, and larger ones
// get about 8192-entry miniatures fed R of the stream, as in SHARDS/miniature simulation
// (Waldspurger et al., ATC'17). A sampled Get that finds the simulations busy drops its sample
// (TryLock) instead of waiting, except with unit weights (the single-threaded simulator, which
// must be repeatable). Only the sampled Gets take a mutex (smu), to feed the
// miniatures: an otter of MaximumSize round(C·R) with a synchronous executor (W-TinyLFU),
// sim.ARC and sim.LRU of the same size, keyed by the hash.
//
// Choice. Every W = max(4000, round(C·R)) sampled accesses each simulation's hits in the
// window are added to a score that decays by 0.95 per window (a horizon of about 20 windows, so
// the choice follows a changing workload and can switch back). The first max(4 windows, 10·C·R
// samples) are warm-up and not scored (W-TinyLFU's sketch needs about 10× its capacity to
// learn). After 8 more windows, and at least 8 windows after the last switch, when another
// engine's decayed hit ratio beats the live engine's by at least 1 pp (3 pp when the live one
// is W-TinyLFU: its miniature is the slowest to warm up, and a switch away and back restarts
// its sketch cold, which the bench traces showed to cost more than 2 pp gained), the switch
// happens on the sampled Get that closed the window. These margins and the dwell time were
// tuned on bench/cache's traces: with 1 pp and short windows the policy flapped (dozens of
// switches on p3) and every migration lost the engines' history.
//
// Switch. Under the writers' mutex, the old engine is drained (its live entries removed
// without being reported, coldest first for otter, LRU and ARC; expired ones reported as
// Expired) and the entries are Set into a new engine of the other kind, coldest first so that
// the hottest end up most recent; with the same limits, everything fits. Then the engine
// pointer is swapped. Gets that run meanwhile on the old engine miss.
//
// Concurrency. Get and Peek load the engine pointer (atomic) and call the engine; writers (Set,
// Delete, Clear, Resize, RemoveExpired) and switches are serialised by wmu, as every engine
// already serialises its writers. Engines report removals to a queue that every operation
// delivers to OnEvict once it holds no lock.
type switcher struct {
	cur     atomic.Pointer[engineRef]
	thr     atomic.Uint64 // sampling threshold on the top sampleBits bits of the hash; 0 while resting
	pending atomic.Bool   // removals are queued
	rest    time.Duration // how long a settled cache stops sampling (restFor; 0 in unit mode)
	_       [64]byte

	wmu      sync.Mutex // writers and switches
	unit     bool
	maxBytes atomic.Int64 // written under wmu; read by the sampling too
	maxItems atomic.Int64 // written under wmu
	now      func() time.Time
	onEvict  func(*Entry, Reason)
	evictFn  func(*Entry, Reason) // the engines' OnEvict: queues

	smu sync.Mutex // sampled accesses
	ch  chooser    // guarded by smu

	switches atomic.Int64

	ev evictQueue
}

func newSwitcher(cfg Config, unit bool) (*switcher, error) {
	s := &switcher{
		unit:    unit,
		now:     cfg.Now,
		onEvict: cfg.OnEvict,
	}
	s.maxBytes.Store(cfg.MaxBytes)
	s.maxItems.Store(int64(cfg.MaxItems))
	if !unit {
		s.rest = restFor // for the duty cycle's rests
	}
	if s.onEvict != nil {
		s.evictFn = s.enqueue
	}
	e, err := s.newEngine(engWTinyLFU)
	if err != nil {
		return nil, err
	}
	s.cur.Store(newRef(e, engWTinyLFU))
	s.ch.reset(s.capItems(e), !s.unit)
	s.thr.Store(s.ch.threshold())
	return s, nil
}

// NewAdaptiveEntries returns the "adaptativo" policy with unit weights: it holds at most
// maxItems entries and ignores their byte weights (MaxBytes is unbounded). It runs the same
// engines and the same choice as [New]("adaptativo", ...); the cache's what-if simulator uses it
// to replay traces counted in entries.
func NewAdaptiveEntries(maxItems int, onEvict func(*Entry, Reason)) (Cache, error) {
	if maxItems < 1 {
		return nil, fmt.Errorf("policy: maxItems must be positive, got %d", maxItems)
	}
	return newSwitcher(Config{MaxBytes: math.MaxInt64 / 4, MaxItems: maxItems, OnEvict: onEvict}, true)
}

func (s *switcher) newEngine(kind int) (engine, error) {
	cfg := Config{MaxBytes: s.maxBytes.Load(), MaxItems: int(s.maxItems.Load()), OnEvict: s.evictFn, Now: s.now}
	switch kind {
	case engARC:
		return newLocal(Adaptativo, cfg, &arcOrder{unit: s.unit}), nil
	case engLRU:
		return newLocal(Adaptativo, cfg, &lruOrder{}), nil
	}
	return newAdaptive(cfg, s.unit)
}

// capItems estimates the capacity in entries.
func (s *switcher) capItems(e Cache) int {
	maxItems := s.maxItems.Load()
	if s.unit {
		return int(min(max(maxItems, 1), math.MaxInt32))
	}
	avg := int64(assumedWeight)
	if n := e.Len(); n >= 64 {
		avg = max(e.Bytes()/int64(n), 1)
	}
	c := s.maxBytes.Load() / avg
	if maxItems > 0 && maxItems < c {
		c = maxItems
	}
	return int(min(max(c, 1), math.MaxInt32))
}

func (s *switcher) enqueue(e *Entry, r Reason) { s.ev.push(e, r, &s.pending) }

func (s *switcher) report() { s.ev.deliver(&s.pending, s.onEvict) }

func (s *switcher) Policy() string { return Adaptativo }

// Engine returns the name of the live engine: "w-tinylfu", "arc" or "lru".
func (s *switcher) Engine() string { return engineNames[s.cur.Load().kind] }

func (s *switcher) Get(key string) (e *Entry, ok bool) {
	if r := s.cur.Load(); r.tl != nil {
		e, ok = r.tl.Get(key)
	} else {
		e, ok = r.c.Get(key)
	}
	if thr := s.thr.Load(); thr != 0 {
		if h := maphash.String(sampleSeed, key); h>>(64-sampleBits) < thr {
			s.sample(h)
		}
	}
	if s.pending.Load() {
		s.report()
	}
	return e, ok
}

// sample feeds a sampled access to the miniature simulations and switches engine if they say so.
func (s *switcher) sample(h uint64) {
	if s.unit {
		s.smu.Lock()
	} else if !s.smu.TryLock() {
		// another Get is feeding the simulations: drop this sample rather than queue behind it
		return
	}
	sw, ended := s.ch.observe(h)
	if ended && !s.unit && !sw && s.ch.stable() {
		// Settled: stop hashing every Get for a while (the duty cycle), then
		// look again with fresh miniatures in case the workload changed.
		s.thr.Store(0)
		time.AfterFunc(s.rest, s.resume) // a runtime timer: nothing on the Get path while resting
		s.smu.Unlock()
		return
	}
	if ended && !s.unit {
		if c := s.capItems(s.cur.Load().c); c > 2*s.ch.capItems || 2*c < s.ch.capItems {
			live := s.ch.live
			s.ch.reset(c, !s.unit)
			s.ch.live = live
			s.thr.Store(s.ch.threshold())
			sw = false
		}
	}
	s.smu.Unlock()
	if sw {
		s.switchTo()
	}
}

// resume starts sampling again after a rest, with fresh miniatures (the
// live engine stays).
func (s *switcher) resume() {
	if !s.smu.TryLock() {
		time.AfterFunc(time.Millisecond, s.resume) // a sampled Get holds it: try again shortly
		return
	}
	defer s.smu.Unlock()
	if s.thr.Load() != 0 {
		return // another Get resumed first
	}
	live := s.ch.live
	s.ch.reset(s.capItems(s.cur.Load().c), true)
	s.ch.live = live
	s.thr.Store(s.ch.threshold())
}

// switchTo replaces the live engine by the one the chooser wants, migrating the entries.
func (s *switcher) switchTo() {
	s.wmu.Lock()
	s.smu.Lock()
	kind := s.ch.live
	s.smu.Unlock()
	old := s.cur.Load()
	if old.kind == kind {
		s.wmu.Unlock()
		return
	}
	nc, err := s.newEngine(kind)
	if err != nil {
		s.wmu.Unlock()
		return
	}
	for _, e := range old.c.drain() {
		_ = nc.Set(e)
	}
	s.cur.Store(newRef(nc, kind))
	s.switches.Add(1)
	s.wmu.Unlock()
	s.report()
}

func (s *switcher) Peek(key string) (*Entry, bool) {
	e, ok := s.cur.Load().c.Peek(key)
	if s.pending.Load() {
		s.report()
	}
	return e, ok
}

func (s *switcher) Set(e *Entry) error {
	if e == nil {
		return ErrNilEntry
	}
	s.wmu.Lock()
	err := s.cur.Load().c.Set(e)
	s.wmu.Unlock()
	s.report()
	return err
}

func (s *switcher) Delete(key string) bool {
	s.wmu.Lock()
	ok := s.cur.Load().c.Delete(key)
	s.wmu.Unlock()
	s.report()
	return ok
}

func (s *switcher) Clear() {
	s.wmu.Lock()
	s.cur.Load().c.Clear()
	s.wmu.Unlock()
	s.report()
}

func (s *switcher) Len() int {
	s.wmu.Lock()
	n := s.cur.Load().c.Len()
	s.wmu.Unlock()
	return n
}

func (s *switcher) Bytes() int64 {
	s.wmu.Lock()
	b := s.cur.Load().c.Bytes()
	s.wmu.Unlock()
	return b
}

func (s *switcher) Resize(maxBytes int64, maxItems int) {
	s.wmu.Lock()
	if maxBytes > 0 {
		s.maxBytes.Store(maxBytes)
	}
	if maxItems >= 0 {
		s.maxItems.Store(int64(maxItems))
	}
	s.cur.Load().c.Resize(maxBytes, maxItems)
	s.wmu.Unlock()
	s.report()
	if s.unit && maxItems > 0 {
		s.smu.Lock()
		live := s.ch.live
		s.ch.reset(maxItems, !s.unit)
		s.ch.live = live
		s.thr.Store(s.ch.threshold())
		s.smu.Unlock()
	}
}

func (s *switcher) Keys() []string {
	k := s.cur.Load().c.Keys()
	if s.pending.Load() {
		s.report()
	}
	return k
}

func (s *switcher) RemoveExpired() int {
	s.wmu.Lock()
	n := s.cur.Load().c.RemoveExpired()
	s.wmu.Unlock()
	s.report()
	return n
}

// chooser runs the miniature simulations and decides the engine.
type chooser struct {
	capItems int
	rate     float64
	mini     int
	window   int
	sims     [numEngines]sim.Simulator
	hits     [numEngines]int
	n        int
	score    [numEngines]float64
	scoreN   float64
	windows  int
	live     int
	lastSw   int // ch.windows at the last switch
	warm     int // windows of warm-up
}

func (ch *chooser) reset(capItems int, shared bool) {
	capItems = max(capItems, 1)
	*ch = chooser{capItems: capItems}
	ch.rate = min(1, float64(miniTarget)/float64(capItems))
	if shared {
		ch.rate = min(ch.rate, maxSharedRate)
	}
	ch.mini = max(1, int(math.Round(float64(capItems)*ch.rate)))
	ch.window = max(minWindow, ch.mini)
	ch.warm = max(warmupWindows, (warmupMinis*ch.mini+ch.window-1)/ch.window)
	ch.sims[engWTinyLFU] = &otterSim{c: otter.Must(&otter.Options[uint64, struct{}]{
		MaximumSize: ch.mini,
		Executor:    func(fn func()) { fn() },
	})}
	ch.sims[engARC] = sim.NewARC(ch.mini)
	ch.sims[engLRU] = sim.NewLRU(ch.mini)
}

// Duty cycle of shared caches: after restAfter windows without a switch
// (warm-up included) the chooser is settled and sampling rests for
// restFor, so a steady cache stops paying a hash per Get; the trace
// simulator (unit mode) never rests.
const (
	restAfter = 32
	restFor   = 30 * time.Second
)

// stable reports that restAfter windows passed since warm-up or the last
// switch without a change.
func (ch *chooser) stable() bool {
	return ch.windows-max(ch.lastSw, ch.warm) >= restAfter
}

func (ch *chooser) threshold() uint64 {
	return uint64(math.Ceil(ch.rate * (1 << sampleBits)))
}

// observe feeds one sampled access. ended reports that it closed a window; sw that ch.live,
// which it has just changed, should replace the live engine.
func (ch *chooser) observe(h uint64) (sw, ended bool) {
	for i, s := range ch.sims {
		if s.Access(h) {
			ch.hits[i]++
		}
	}
	ch.n++
	if ch.n < ch.window {
		return false, false
	}
	for i := range ch.score {
		ch.score[i] = ch.score[i]*scoreDecay + float64(ch.hits[i])
		ch.hits[i] = 0
	}
	ch.scoreN = ch.scoreN*scoreDecay + float64(ch.n)
	ch.n = 0
	ch.windows++
	if ch.windows <= ch.warm {
		ch.score, ch.scoreN = [numEngines]float64{}, 0
		return false, true
	}
	if ch.windows < ch.warm+minDwell || (ch.lastSw > 0 && ch.windows-ch.lastSw < minDwell) {
		return false, true
	}
	best := ch.live
	for i := range ch.score {
		if ch.score[i] > ch.score[best] {
			best = i
		}
	}
	margin := switchMargin
	if ch.live == engWTinyLFU {
		margin = leaveTinyLFUMargin
	}
	if best != ch.live && (ch.score[best]-ch.score[ch.live])/ch.scoreN >= margin {
		ch.live = best
		ch.lastSw = ch.windows
		return true, true
	}
	return false, true
}

// otterSim is W-TinyLFU (otter, synchronous maintenance) as a simulator.
type otterSim struct {
	c *otter.Cache[uint64, struct{}]
}

func (o *otterSim) Name() string { return "w-tinylfu" }

func (o *otterSim) Access(key uint64) bool {
	if _, ok := o.c.GetIfPresent(key); ok {
		return true
	}
	o.c.Set(key, struct{}{})
	return false
}
