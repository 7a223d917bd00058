// Package cache is the intelligent cache: named areas, each with its own
// eviction policy and byte budget, whose access streams are measured (hit
// ratios over time, hot keys, miss-ratio curves from spatially sampled
// ghost caches) so the optimiser can pick policies and move bytes where
// they buy the most hits. With Redis configured, a shared tier sits behind
// the in-process one and invalidations reach every instance.
package cache

import (
	"errors"
	"hash/maphash"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/painel-universal/painel/internal/cache/policy"
	"github.com/painel-universal/painel/internal/cache/sim"
)

// Strategies an area can use.
var Strategies = []string{"lru", "lfu", "fifo", "ttl", "adaptativo"}

// AreaConfig is the persistent configuration of an area.
type AreaConfig struct {
	Nome              string `json:"nome"`
	Estrategia        string `json:"estrategia" enum:"lru,lfu,fifo,ttl,adaptativo"`
	TamanhoMaxBytes   int64  `json:"tamanho_max_bytes" minimum:"1024"`
	MaxItens          int    `json:"max_itens" minimum:"0" doc:"0: no item limit"`
	TTLPadraoSegundos int64  `json:"ttl_padrao_segundos" minimum:"0" doc:"0: items do not expire unless they say so"`
	Otimizar          bool   `json:"otimizar" doc:"Let the optimiser change this area's policy and size"`
}

// Limits on keys and values.
const (
	MaxKeyBytes   = 512
	MaxValueBytes = 8 << 20
	MaxTags       = 16
	MaxTagBytes   = 64
)

// counters are an area's running totals.
type counters struct {
	hits, misses, sets, deletes atomic.Int64
	evicted                     [5]atomic.Int64 // by policy.Reason
}

// Point is one sample of an area's time series.
type Point struct {
	Instante  time.Time `json:"instante"`
	Hits      int64     `json:"hits"`
	Misses    int64     `json:"misses"`
	HitRatio  float64   `json:"hit_ratio"`
	OpsPorSeg float64   `json:"ops_por_segundo"`
	Bytes     int64     `json:"bytes"`
	Itens     int       `json:"itens"`
}

// seriesLen is how many points an area keeps: an hour at 10 s.
const seriesLen = 360

// Area is one named cache.
type Area struct {
	mu    sync.RWMutex // guards cfg and c (swapped on reconfiguration)
	cfg   AreaConfig
	c     policy.Cache
	stats counters
	// gen changes on every write and invalidation, so a read-through from
	// the shared tier that raced with one does not keep a stale value.
	gen atomic.Uint64

	tagMu sync.Mutex
	tags  map[string]map[string]struct{} // tag -> keys

	sampleMu sync.Mutex
	hot      *sim.SpaceSaving
	shards   *sim.Shards
	mini     *sim.Mini
	seed     maphash.Seed

	seriesMu  sync.Mutex
	series    []Point
	lastSnap  time.Time
	lastHits  int64
	lastMiss  int64
	lastTotal int64
}

// Analysis parameters: hybrid SHARDS at 1% (at most 4,000 sampled keys and
// 8,192 exact ones, under 1 MiB per area) and the miniature simulations on
// the same 1% sample; hot keys (and the promotion of keys to exact tracking)
// come from a 1-in-8 random sample.
const (
	shardsRate     = 0.01
	hotCounters    = 256
	hotSampleEvery = 8
)

// curveSizes are the entry counts at which an area's curves are estimated.
func curveSizes() []int {
	return []int{100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000}
}

func newArea(cfg AreaConfig, seed maphash.Seed) (*Area, error) {
	a := &Area{cfg: cfg, tags: map[string]map[string]struct{}{}, seed: seed}
	c, err := a.newPolicy(cfg)
	if err != nil {
		return nil, err
	}
	a.c = c
	a.hot = sim.NewSpaceSaving(hotCounters)
	a.shards = sim.NewHybridShards(shardsRate, 0, 0)
	if a.mini, err = sim.NewMini(shardsRate, []string{"lru", "lfu-aging", "fifo", "arc"}, curveSizes()); err != nil {
		return nil, err
	}
	a.lastSnap = time.Now()
	return a, nil
}

func (a *Area) newPolicy(cfg AreaConfig) (policy.Cache, error) {
	return policy.New(cfg.Estrategia, policy.Config{
		MaxBytes: cfg.TamanhoMaxBytes,
		MaxItems: cfg.MaxItens,
		OnEvict:  a.onEvict,
	})
}

func (a *Area) onEvict(e *policy.Entry, r policy.Reason) {
	if int(r) >= 0 && int(r) < len(a.stats.evicted) {
		a.stats.evicted[r].Add(1)
	}
	if len(e.Tags) > 0 && r != policy.Replaced {
		a.untag(e.Key, e.Tags)
	}
}

// Config returns the area's configuration.
func (a *Area) Config() AreaConfig {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.cfg
}

func (a *Area) cache() policy.Cache {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.c
}

// record feeds the analysis with one access.
func (a *Area) record(key string) {
	h := maphash.String(a.seed, key)
	a.shards.Seen(h)                               // distinct keys: lock-free
	sampleHot := rand.Uint32()%hotSampleEvery == 0 // temporal sample: hot keys
	inSample := sim.Sampled(h, shardsRate)         // spatial sample: miniatures
	wants := inSample || a.shards.Wants(h)         // or a key tracked exactly
	if !sampleHot && !wants {
		return
	}
	a.sampleMu.Lock()
	if sampleHot {
		a.hot.Offer(key)
		a.shards.Observe(h, hotSampleEvery)
	}
	if wants {
		a.shards.AccessSampled(h)
	}
	if inSample {
		a.mini.AccessSampled(h)
	}
	a.sampleMu.Unlock()
}

// Get returns the live entry under key.
func (a *Area) Get(key string) (*policy.Entry, bool) {
	a.record(key)
	e, ok := a.cache().Get(key)
	if ok {
		a.stats.hits.Add(1)
	} else {
		a.stats.misses.Add(1)
	}
	return e, ok
}

// ErrTooLarge reports a value bigger than the area can ever hold.
var ErrTooLarge = errors.New("valor maior que a área")

// Set stores e (its TTL defaults to the area's).
func (a *Area) Set(e *policy.Entry) error {
	cfg := a.Config()
	if e.ExpiresAt.IsZero() && cfg.TTLPadraoSegundos > 0 {
		e.ExpiresAt = time.Now().Add(time.Duration(cfg.TTLPadraoSegundos) * time.Second)
	}
	a.gen.Add(1)
	if err := a.cache().Set(e); err != nil {
		if errors.Is(err, policy.ErrTooLarge) {
			return ErrTooLarge
		}
		return err
	}
	a.stats.sets.Add(1)
	a.tag(e.Key, e.Tags)
	return nil
}

// Delete removes key.
func (a *Area) Delete(key string) bool {
	a.gen.Add(1)
	ok := a.cache().Delete(key)
	if ok {
		a.stats.deletes.Add(1)
	}
	return ok
}

// Clear empties the area.
func (a *Area) Clear() {
	a.gen.Add(1)
	a.cache().Clear()
	a.tagMu.Lock()
	a.tags = map[string]map[string]struct{}{}
	a.tagMu.Unlock()
}

func (a *Area) tag(key string, tags []string) {
	if len(tags) == 0 {
		return
	}
	a.tagMu.Lock()
	defer a.tagMu.Unlock()
	for _, t := range tags {
		set := a.tags[t]
		if set == nil {
			set = map[string]struct{}{}
			a.tags[t] = set
		}
		set[key] = struct{}{}
	}
}

func (a *Area) untag(key string, tags []string) {
	a.tagMu.Lock()
	defer a.tagMu.Unlock()
	for _, t := range tags {
		if set := a.tags[t]; set != nil {
			delete(set, key)
			if len(set) == 0 {
				delete(a.tags, t)
			}
		}
	}
}

// DeleteTag removes every entry tagged t and returns how many.
func (a *Area) DeleteTag(t string) int {
	a.gen.Add(1)
	a.tagMu.Lock()
	keys := make([]string, 0, len(a.tags[t]))
	for k := range a.tags[t] {
		keys = append(keys, k)
	}
	a.tagMu.Unlock()
	n := 0
	c := a.cache()
	for _, k := range keys {
		// The key may have been overwritten without the tag since.
		if e, ok := c.Peek(k); ok && hasTag(e.Tags, t) && c.Delete(k) {
			a.stats.deletes.Add(1)
			n++
		}
	}
	a.tagMu.Lock()
	if set := a.tags[t]; set != nil {
		for _, k := range keys {
			delete(set, k)
		}
		if len(set) == 0 {
			delete(a.tags, t)
		}
	}
	a.tagMu.Unlock()
	return n
}

func hasTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}

// reconfigure applies a new configuration: a new policy keeps the entries
// that fit, in their current order of importance as far as the old policy
// exposes it (Keys order).
func (a *Area) reconfigure(cfg AreaConfig) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cfg.Estrategia == a.cfg.Estrategia {
		a.c.Resize(cfg.TamanhoMaxBytes, cfg.MaxItens)
		a.cfg = cfg
		return nil
	}
	c, err := a.newPolicy(cfg)
	if err != nil {
		return err
	}
	for _, k := range a.c.Keys() {
		if e, ok := a.c.Peek(k); ok {
			_ = c.Set(e)
		}
	}
	a.c, a.cfg = c, cfg
	return nil
}

// snapshot appends a time-series point.
func (a *Area) snapshot(now time.Time) {
	a.seriesMu.Lock()
	defer a.seriesMu.Unlock()
	hits, miss := a.stats.hits.Load(), a.stats.misses.Load()
	total := hits + miss + a.stats.sets.Load() + a.stats.deletes.Load()
	dt := now.Sub(a.lastSnap).Seconds()
	p := Point{Instante: now.UTC(), Hits: hits - a.lastHits, Misses: miss - a.lastMiss}
	if n := p.Hits + p.Misses; n > 0 {
		p.HitRatio = float64(p.Hits) / float64(n)
	}
	if dt > 0 {
		p.OpsPorSeg = float64(total-a.lastTotal) / dt
	}
	c := a.cache()
	p.Bytes, p.Itens = c.Bytes(), c.Len()
	a.series = append(a.series, p)
	if len(a.series) > seriesLen {
		a.series = a.series[len(a.series)-seriesLen:]
	}
	a.lastSnap, a.lastHits, a.lastMiss, a.lastTotal = now, hits, miss, total
}

// HotKey is one of the most accessed keys.
type HotKey struct {
	Chave    string `json:"chave"`
	Acessos  uint64 `json:"acessos" doc:"Estimated accesses (sampled 1 in 8, scaled)"`
	ErroMax  uint64 `json:"erro_max" doc:"Upper bound of the overestimate"`
	Garantia bool   `json:"garantido" doc:"True when the key is certainly among the top (count - error above the next count)"`
}

func (a *Area) hotKeys(k int) []HotKey {
	a.sampleMu.Lock()
	top := a.hot.Top(k + 1)
	a.sampleMu.Unlock()
	var out []HotKey
	for i, t := range top {
		if i == k {
			break
		}
		h := HotKey{Chave: t.Key, Acessos: t.Count * hotSampleEvery, ErroMax: t.Error * hotSampleEvery}
		if i+1 < len(top) {
			h.Garantia = t.Count-t.Error > top[i+1].Count
		}
		out = append(out, h)
	}
	return out
}

// CurvePoint is the expected hit ratio at a size.
type CurvePoint struct {
	Itens    int     `json:"itens"`
	Bytes    int64   `json:"bytes" doc:"Itens times the mean entry size"`
	HitRatio float64 `json:"hit_ratio"`
}

// PolicyEstimate is a miniature simulation's estimate.
type PolicyEstimate struct {
	Estrategia string  `json:"estrategia"`
	Itens      int     `json:"itens"`
	HitRatio   float64 `json:"hit_ratio"`
	Amostras   int     `json:"amostras"`
}

// curves returns the sampled estimates, empty until the sample holds at
// least minSamples accesses (before that they would be noise), and the
// number of sampled accesses.
func (a *Area) curves(meanSize float64) ([]CurvePoint, []PolicyEstimate, uint64) {
	sizes := curveSizes()
	lookups := uint64(a.stats.hits.Load() + a.stats.misses.Load())
	a.sampleMu.Lock()
	samples := a.shards.Samples()
	if samples < minSamples {
		a.sampleMu.Unlock()
		return []CurvePoint{}, []PolicyEstimate{}, samples
	}
	a.shards.SetRequests(lookups)
	a.mini.SetRequests(lookups)
	miss := a.shards.Curve(sizes)
	est := a.mini.Estimates()
	a.sampleMu.Unlock()
	var mrc []CurvePoint
	for i, s := range sizes {
		mrc = append(mrc, CurvePoint{Itens: s, Bytes: int64(float64(s) * meanSize), HitRatio: 1 - miss[i]})
	}
	var pe []PolicyEstimate
	for _, e := range est {
		pe = append(pe, PolicyEstimate{Estrategia: e.Policy, Itens: e.Size, HitRatio: e.HitRatio, Amostras: e.Samples})
	}
	sort.Slice(pe, func(i, j int) bool {
		if pe[i].Estrategia != pe[j].Estrategia {
			return pe[i].Estrategia < pe[j].Estrategia
		}
		return pe[i].Itens < pe[j].Itens
	})
	return mrc, pe, samples
}
