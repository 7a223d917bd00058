package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"time"
)

// Decision is one change the optimiser made (or, in a dry run, would make).
type Decision struct {
	ID               string     `json:"id"`
	Area             string     `json:"area"`
	CriadoEm         time.Time  `json:"criado_em"`
	Acao             string     `json:"acao" enum:"estrategia,tamanho"`
	Antes            string     `json:"antes"`
	Depois           string     `json:"depois"`
	HitRatioAntes    float64    `json:"hit_ratio_antes"`
	HitRatioEsperado float64    `json:"hit_ratio_esperado"`
	HitRatioMedido   *float64   `json:"hit_ratio_medido,omitempty" doc:"Measured over the hour after the change"`
	MedidoEm         *time.Time `json:"medido_em,omitempty"`
	Aplicada         bool       `json:"aplicada"`
}

// Optimiser thresholds: a change must promise at least 2 pp (policy) or a
// net 1 pp of traffic-weighted hit ratio (budget moves).
const (
	policyGain = 0.02
	budgetGain = 0.01
	moveShare  = 0.25 // at most a quarter of a donor's bytes per run
)

// Optimise picks each optimisable area's policy from its miniature
// simulations and moves bytes between areas by the marginal gain read from
// their curves. With dryRun it only reports.
func (m *Manager) Optimise(ctx context.Context, dryRun bool) ([]Decision, error) {
	if err := m.measurePast(ctx); err != nil {
		m.log.Warn("cache: measuring past decisions", "error", err)
	}
	type view struct {
		a    *Area
		cfg  AreaConfig
		st   AreaStats
		mean float64
		rate float64 // lookups in the series window, to weigh gains by traffic
	}
	var views []*view
	for _, a := range m.Areas() {
		cfg := a.Config()
		if !cfg.Otimizar {
			continue
		}
		st := a.analyse()
		mean := st.TamanhoMedioBytes
		if mean == 0 {
			continue // empty area: nothing to learn from
		}
		var lookups int64
		for _, p := range st.Serie {
			lookups += p.Hits + p.Misses
		}
		if lookups == 0 {
			lookups = st.Hits + st.Misses
		}
		views = append(views, &view{a: a, cfg: cfg, st: st, mean: mean, rate: float64(lookups)})
	}
	var out []Decision
	now := time.Now().UTC()

	// 1. Policies.
	for _, v := range views {
		n := itemsFor(v.cfg.TamanhoMaxBytes, v.mean)
		best, bestHR, cur, ok := bestPolicy(v.cfg, v.st.Simulacoes, n, v.st.HitRatio)
		if !ok || strategyOf(best) == v.cfg.Estrategia || bestHR-cur < policyGain {
			continue
		}
		next := v.cfg
		next.Estrategia = strategyOf(best)
		d := Decision{Area: v.cfg.Nome, CriadoEm: now, Acao: "estrategia", Antes: v.cfg.Estrategia, Depois: next.Estrategia,
			HitRatioAntes: cur, HitRatioEsperado: bestHR}
		if !dryRun {
			if _, err := m.PutArea(ctx, next); err != nil {
				return out, err
			}
			v.cfg = next
			d.Aplicada = true
		}
		out = append(out, d)
	}

	// 2. Bytes: move from the area that loses least per byte to the one
	// that gains most, weighted by how many lookups each serves.
	var total float64
	for _, v := range views {
		total += v.rate
	}
	if len(views) >= 2 && total > 0 {
		type marginal struct {
			v          *view
			gain, loss float64 // traffic-weighted hit ratio change for +step / -step
			step       int64
		}
		var ms []marginal
		for _, v := range views {
			if v.st.Hits+v.st.Misses < minSamples*10 {
				continue
			}
			step := int64(float64(v.cfg.TamanhoMaxBytes) * moveShare)
			n := itemsFor(v.cfg.TamanhoMaxBytes, v.mean)
			dn := itemsFor(step, v.mean)
			hr := interp(v.st.CurvaHitRatio, n)
			w := v.rate / total
			ms = append(ms, marginal{v: v, step: step,
				gain: w * (interp(v.st.CurvaHitRatio, n+dn) - hr),
				loss: w * (hr - interp(v.st.CurvaHitRatio, max(1, n-dn)))})
		}
		if len(ms) >= 2 {
			sort.Slice(ms, func(i, j int) bool { return ms[i].gain > ms[j].gain })
			recv := ms[0]
			donor := ms[len(ms)-1]
			for _, c := range ms[1:] {
				if c.loss < donor.loss {
					donor = c
				}
			}
			bytes := min(donor.step, recv.step)
			if donor.v != recv.v && bytes >= 1024 && recv.gain-donor.loss >= budgetGain {
				for _, mv := range []struct {
					v     *view
					delta int64
				}{{donor.v, -bytes}, {recv.v, bytes}} {
					next := mv.v.cfg
					next.TamanhoMaxBytes += mv.delta
					n0, n1 := itemsFor(mv.v.cfg.TamanhoMaxBytes, mv.v.mean), itemsFor(next.TamanhoMaxBytes, mv.v.mean)
					d := Decision{Area: mv.v.cfg.Nome, CriadoEm: now, Acao: "tamanho", Antes: human(mv.v.cfg.TamanhoMaxBytes),
						Depois: human(next.TamanhoMaxBytes), HitRatioAntes: interp(mv.v.st.CurvaHitRatio, n0),
						HitRatioEsperado: interp(mv.v.st.CurvaHitRatio, n1)}
					if !dryRun {
						if _, err := m.PutArea(ctx, next); err != nil {
							return out, err
						}
						mv.v.cfg = next
						d.Aplicada = true
					}
					out = append(out, d)
				}
			}
		}
	}
	if !dryRun {
		for i := range out {
			if err := m.logDecision(ctx, &out[i]); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

func (m *Manager) logDecision(ctx context.Context, d *Decision) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	d.ID = hex.EncodeToString(b[:])
	_, err := m.st.DB.ExecContext(ctx, `INSERT INTO cache_otimizacoes (id, area, criado_em, acao, antes, depois,
		hit_ratio_antes, hit_ratio_esperado) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		d.ID, d.Area, d.CriadoEm.UnixMilli(), d.Acao, d.Antes, d.Depois, d.HitRatioAntes, d.HitRatioEsperado)
	return err
}

// measureAfter is how long a decision runs before its result is measured.
const measureAfter = time.Hour

// measurePast fills in the measured hit ratio of decisions older than
// measureAfter, from the area's time series since the decision.
func (m *Manager) measurePast(ctx context.Context) error {
	cutoff := time.Now().Add(-measureAfter).UnixMilli()
	rows, err := m.st.DB.QueryContext(ctx, `SELECT id, area, criado_em FROM cache_otimizacoes
		WHERE hit_ratio_medido IS NULL AND criado_em <= $1`, cutoff)
	if err != nil {
		return err
	}
	type pending struct {
		id, area string
		at       int64
	}
	var ps []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.id, &p.area, &p.at); err != nil {
			rows.Close()
			return err
		}
		ps = append(ps, p)
	}
	rows.Close()
	for _, p := range ps {
		a, err := m.Area(p.area)
		if err != nil {
			continue
		}
		since := time.UnixMilli(p.at)
		var hits, lookups int64
		a.seriesMu.Lock()
		for _, pt := range a.series {
			if pt.Instante.After(since) {
				hits += pt.Hits
				lookups += pt.Hits + pt.Misses
			}
		}
		a.seriesMu.Unlock()
		if lookups == 0 {
			continue
		}
		if _, err := m.st.DB.ExecContext(ctx, `UPDATE cache_otimizacoes SET hit_ratio_medido = $2, medido_em = $3 WHERE id = $1`,
			p.id, float64(hits)/float64(lookups), time.Now().UnixMilli()); err != nil {
			return err
		}
	}
	return nil
}

// Decisions lists the optimiser's log, newest first.
func (m *Manager) Decisions(ctx context.Context, limit int) ([]Decision, error) {
	rows, err := m.st.DB.QueryContext(ctx, `SELECT id, area, criado_em, acao, antes, depois, hit_ratio_antes,
		hit_ratio_esperado, hit_ratio_medido, medido_em FROM cache_otimizacoes ORDER BY criado_em DESC, id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		var d Decision
		var at int64
		var med *float64
		var medAt *int64
		if err := rows.Scan(&d.ID, &d.Area, &at, &d.Acao, &d.Antes, &d.Depois, &d.HitRatioAntes, &d.HitRatioEsperado, &med, &medAt); err != nil {
			return nil, err
		}
		d.CriadoEm, d.HitRatioMedido, d.Aplicada = time.UnixMilli(at).UTC(), med, true
		if medAt != nil {
			t := time.UnixMilli(*medAt).UTC()
			d.MedidoEm = &t
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
