package cache

import (
	"fmt"
	"math"

	"github.com/painel-universal/painel/internal/cache/policy"
)

// AreaStats is the analysis of one area.
type AreaStats struct {
	Area              string           `json:"area"`
	Estrategia        string           `json:"estrategia"`
	Hits              int64            `json:"hits"`
	Misses            int64            `json:"misses"`
	HitRatio          float64          `json:"hit_ratio"`
	Escritas          int64            `json:"escritas"`
	Itens             int              `json:"itens"`
	Bytes             int64            `json:"bytes"`
	TamanhoMaxBytes   int64            `json:"tamanho_max_bytes"`
	TamanhoMedioBytes float64          `json:"tamanho_medio_bytes" doc:"Mean cost of an entry (key, value, tags and overhead)"`
	OpsPorSegundo     float64          `json:"ops_por_segundo" doc:"Over the last 10-second interval"`
	Remocoes          map[string]int64 `json:"remocoes" doc:"Entries removed, by cause: tamanho, expiracao, remocao, limpeza, substituicao"`
	Serie             []Point          `json:"serie" doc:"Hit ratio and load every 10 s over the last hour"`
	ChavesQuentes     []HotKey         `json:"chaves_quentes" doc:"Top keys by Space-Saving"`
	CurvaHitRatio     []CurvePoint     `json:"curva_hit_ratio" doc:"Expected LRU hit ratio at other sizes (hybrid SHARDS: 1% spatial sample plus the hottest keys tracked exactly)"`
	Simulacoes        []PolicyEstimate `json:"simulacoes" doc:"Miniature simulations of other policies and sizes on the sampled stream"`
	Amostras          uint64           `json:"amostras" doc:"Accesses in the 1% spatial sample; curves and simulations appear from 200 on"`
	Recomendacoes     []string         `json:"recomendacoes"`
}

// Stats is the answer of /cache/estatisticas.
type Stats struct {
	OrcamentoBytes int64       `json:"orcamento_bytes"`
	ReservadoBytes int64       `json:"reservado_bytes"`
	Areas          []AreaStats `json:"areas"`
}

// minSamples is how many sampled accesses the estimates need before the
// service recommends or acts on them.
const minSamples = 200

// Stats analyses every area (or one, when area is not "").
func (m *Manager) Stats(area string) (*Stats, error) {
	var areas []*Area
	if area != "" {
		a, err := m.Area(area)
		if err != nil {
			return nil, err
		}
		areas = []*Area{a}
	} else {
		areas = m.Areas()
	}
	out := &Stats{}
	out.OrcamentoBytes, out.ReservadoBytes = m.Budget()
	for _, a := range areas {
		out.Areas = append(out.Areas, a.analyse())
	}
	return out, nil
}

func (a *Area) analyse() AreaStats {
	cfg := a.Config()
	c := a.cache()
	s := AreaStats{Area: cfg.Nome, Estrategia: cfg.Estrategia, Hits: a.stats.hits.Load(), Misses: a.stats.misses.Load(),
		Escritas: a.stats.sets.Load(), Itens: c.Len(), Bytes: c.Bytes(), TamanhoMaxBytes: cfg.TamanhoMaxBytes,
		Remocoes: map[string]int64{}}
	if n := s.Hits + s.Misses; n > 0 {
		s.HitRatio = float64(s.Hits) / float64(n)
	}
	if s.Itens > 0 {
		s.TamanhoMedioBytes = float64(s.Bytes) / float64(s.Itens)
	}
	for r := range a.stats.evicted {
		s.Remocoes[policy.Reason(r).String()] = a.stats.evicted[r].Load()
	}
	a.seriesMu.Lock()
	s.Serie = append([]Point{}, a.series...)
	a.seriesMu.Unlock()
	if len(s.Serie) > 0 {
		s.OpsPorSegundo = s.Serie[len(s.Serie)-1].OpsPorSeg
	}
	s.ChavesQuentes = append([]HotKey{}, a.hotKeys(10)...)
	mean := s.TamanhoMedioBytes
	if mean == 0 {
		mean = 1024
	}
	s.CurvaHitRatio, s.Simulacoes, s.Amostras = a.curves(mean)
	s.Recomendacoes = recommend(cfg, s, mean)
	return s
}

// itemsFor converts a byte size to entries at the mean entry size.
func itemsFor(bytes int64, mean float64) int {
	return int(math.Max(1, float64(bytes)/mean))
}

// interp reads the curve's hit ratio at n entries (log-linear between
// points; flat beyond the ends).
func interp(curve []CurvePoint, n int) float64 {
	if len(curve) == 0 {
		return 0
	}
	if n <= curve[0].Itens {
		return curve[0].HitRatio * float64(n) / float64(curve[0].Itens)
	}
	for i := 1; i < len(curve); i++ {
		if n <= curve[i].Itens {
			a, b := curve[i-1], curve[i]
			t := (math.Log(float64(n)) - math.Log(float64(a.Itens))) / (math.Log(float64(b.Itens)) - math.Log(float64(a.Itens)))
			return a.HitRatio + t*(b.HitRatio-a.HitRatio)
		}
	}
	return curve[len(curve)-1].HitRatio
}

// policyAt reads a policy's estimated hit ratio at n entries.
func policyAt(est []PolicyEstimate, pol string, n int) (float64, int, bool) {
	var pts []CurvePoint
	samples := 0
	for _, e := range est {
		if e.Estrategia == pol {
			pts = append(pts, CurvePoint{Itens: e.Itens, HitRatio: e.HitRatio})
			samples = max(samples, e.Amostras)
		}
	}
	if len(pts) == 0 {
		return 0, 0, false
	}
	return interp(pts, n), samples, true
}

// strategyOf maps a simulated policy to the strategy that implements it.
func strategyOf(sim string) string {
	switch sim {
	case "arc":
		return "adaptativo" // W-TinyLFU: scan- and frequency-aware like ARC
	case "lfu-aging":
		return "lfu" // our LFU ages its counts
	}
	return sim
}

// bestPolicy returns the simulated policy with the highest estimate at n
// entries, and the estimate for the area's current strategy.
func bestPolicy(cfg AreaConfig, est []PolicyEstimate, n int, measured float64) (best string, bestHR, currentHR float64, ok bool) {
	currentHR = measured
	for _, p := range []string{"lru", "lfu-aging", "fifo", "arc"} {
		hr, samples, found := policyAt(est, p, n)
		if !found || samples < minSamples {
			continue
		}
		if strategyOf(p) == cfg.Estrategia {
			currentHR = hr
		}
		if !ok || hr > bestHR {
			best, bestHR, ok = p, hr, true
		}
	}
	return best, bestHR, currentHR, ok
}

// recommend turns the estimates into concrete, quantified advice.
func recommend(cfg AreaConfig, s AreaStats, mean float64) []string {
	var out []string
	n := itemsFor(cfg.TamanhoMaxBytes, mean)
	if best, bestHR, cur, ok := bestPolicy(cfg, s.Simulacoes, n, s.HitRatio); ok && strategyOf(best) != cfg.Estrategia && bestHR-cur >= 0.02 {
		out = append(out, fmt.Sprintf("trocar %s de %s para %s: %+.1f pp de hit ratio (%.1f%% → %.1f%%)",
			cfg.Nome, cfg.Estrategia, strategyOf(best), 100*(bestHR-cur), 100*cur, 100*bestHR))
	}
	if len(s.CurvaHitRatio) > 0 && s.Hits+s.Misses >= minSamples*10 {
		now := interp(s.CurvaHitRatio, n)
		grown := interp(s.CurvaHitRatio, 2*n)
		if grown-now >= 0.02 {
			out = append(out, fmt.Sprintf("aumentar %s para %s: %+.1f pp de hit ratio", cfg.Nome, human(2*cfg.TamanhoMaxBytes), 100*(grown-now)))
		}
		half := interp(s.CurvaHitRatio, n/2)
		if now-half < 0.005 && cfg.TamanhoMaxBytes >= 2<<20 {
			out = append(out, fmt.Sprintf("reduzir %s para %s custa menos de 0.5 pp de hit ratio; libere o orçamento para outra área",
				cfg.Nome, human(cfg.TamanhoMaxBytes/2)))
		}
	}
	return out
}

func human(b int64) string {
	switch {
	case b >= 1<<30 && b%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", b>>30)
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
