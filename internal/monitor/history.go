package monitor

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/painel-universal/painel/internal/monitor/tsdb"
	"github.com/painel-universal/painel/internal/store"
)

// Tiers of the history: raw samples for 24 h, one-minute min/avg/max for 30 days, one-hour
// min/avg/max for a year.
const (
	TierRaw = iota
	TierMinute
	TierHour
	numTiers
)

var tierNames = [numTiers]string{"bruto", "1min", "1h"}

type tierSpec struct {
	step      time.Duration // 0 for raw
	blockSpan time.Duration // a block is closed once it spans this much
	retention time.Duration
}

var tiers = [numTiers]tierSpec{
	{0, time.Hour, 24 * time.Hour},
	{time.Minute, 24 * time.Hour, 30 * 24 * time.Hour},
	{time.Hour, 30 * 24 * time.Hour, 365 * 24 * time.Hour},
}

// series is the open block of one metric in one tier: one encoder for raw values, three (min,
// avg, max) for the roll-ups.
type series struct {
	enc   []*tsdb.Encoder
	start int64 // unix ms of the block's first point (its key in monitor_blocos)
	dirty bool
}

// agg accumulates the raw samples of one metric in one roll-up period.
type agg struct {
	period   int64 // start of the period, unix ms
	min, max float64
	sum      float64
	n        int
}

// history stores samples in compressed blocks (package tsdb) in monitor_blocos: the open block
// of every metric and tier lives in memory and is written (upserted whole) by flush, which the
// service calls every minute and at shutdown; a block is closed when it spans its tier's
// blockSpan. Values are quantised to the metric's precision (collect.Precision). On restart new
// blocks start, so nothing written is rewritten by another process.
type history struct {
	st        *store.Store
	precision func(string) float64

	mu   sync.Mutex
	open [numTiers]map[string]*series
	aggs [numTiers]map[string]*agg // TierMinute and TierHour
}

func newHistory(st *store.Store, precision func(string) float64) *history {
	h := &history{st: st, precision: precision}
	for i := range h.open {
		h.open[i] = map[string]*series{}
		h.aggs[i] = map[string]*agg{}
	}
	return h
}

// add records one sample.
func (h *history) add(ctx context.Context, at time.Time, values map[string]float64) error {
	ms := at.UnixMilli()
	h.mu.Lock()
	var closed []closedBlock
	for name, v := range values {
		closed = h.appendLocked(TierRaw, name, ms, []float64{v}, closed)
		for tier := TierMinute; tier < numTiers; tier++ {
			step := tiers[tier].step.Milliseconds()
			period := ms - ms%step
			a := h.aggs[tier][name]
			if a != nil && a.period != period {
				closed = h.appendLocked(tier, name, a.period, []float64{a.min, a.sum / float64(a.n), a.max}, closed)
				a = nil
			}
			if a == nil {
				a = &agg{period: period, min: math.Inf(1), max: math.Inf(-1)}
				h.aggs[tier][name] = a
			}
			if !math.IsNaN(v) {
				a.min, a.max, a.sum, a.n = math.Min(a.min, v), math.Max(a.max, v), a.sum+v, a.n+1
			}
		}
	}
	h.mu.Unlock()
	return h.write(ctx, closed)
}

// closedBlock is a block ready to write: its row's fields, taken under the lock.
type closedBlock struct {
	metric     string
	tier       int
	start, end int64
	n          int
	data       []byte
}

func (s *series) row(metric string, tier int) closedBlock {
	return closedBlock{metric, tier, s.start, s.enc[0].Last(), s.enc[0].Len(), s.blob()}
}

// appendLocked appends one point to the open block of (tier, name), closing the block first
// when it spans its tier's length; closed blocks are returned for writing.
func (h *history) appendLocked(tier int, name string, ms int64, vals []float64, closed []closedBlock) []closedBlock {
	if tier != TierRaw && vals[0] > vals[2] { // an aggregate of no valid value
		return closed
	}
	s := h.open[tier][name]
	if s != nil && (ms-s.start >= tiers[tier].blockSpan.Milliseconds() || ms < s.enc[0].Last()) {
		closed = append(closed, s.row(name, tier))
		s = nil
	}
	if s == nil {
		prec := h.precision(name)
		s = &series{start: ms}
		for range vals {
			s.enc = append(s.enc, tsdb.NewEncoder(prec))
		}
		h.open[tier][name] = s
	}
	for i, v := range vals {
		if err := s.enc[i].Append(ms, v); err != nil {
			continue // out of order: cannot happen after the check above
		}
	}
	s.dirty = true
	return closed
}

// blob frames a block's streams: a uvarint count, then each stream as uvarint length + bytes.
func (s *series) blob() []byte {
	out := binary.AppendUvarint(nil, uint64(len(s.enc)))
	for _, e := range s.enc {
		b := e.Bytes()
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out
}

func splitBlob(b []byte) ([][]byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > 3 {
		return nil, errors.New("monitor: bad block framing")
	}
	b = b[k:]
	out := make([][]byte, 0, n)
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, errors.New("monitor: bad block framing")
		}
		out = append(out, b[k:k+int(l)])
		b = b[k+int(l):]
	}
	return out, nil
}

func (h *history) write(ctx context.Context, blocks []closedBlock) error {
	if len(blocks) == 0 {
		return nil
	}
	return h.st.Tx(ctx, func(tx *sql.Tx) error {
		for _, c := range blocks {
			if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_blocos (metrica, camada, inicio, fim, n, dados)
				VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (metrica, camada, inicio) DO UPDATE
				SET fim = excluded.fim, n = excluded.n, dados = excluded.dados`,
				c.metric, c.tier, c.start, c.end, c.n, c.data); err != nil {
				return fmt.Errorf("monitor: write block %s/%d: %w", c.metric, c.tier, err)
			}
		}
		return nil
	})
}

// flush writes every open block that changed since the last flush.
func (h *history) flush(ctx context.Context) error {
	h.mu.Lock()
	var blocks []closedBlock
	for tier := range h.open {
		for name, s := range h.open[tier] {
			if s.dirty {
				s.dirty = false
				blocks = append(blocks, s.row(name, tier))
			}
		}
	}
	h.mu.Unlock()
	return h.write(ctx, blocks)
}

// expire deletes the blocks past their tier's retention.
func (h *history) expire(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for tier, spec := range tiers {
		res, err := h.st.DB.ExecContext(ctx, `DELETE FROM monitor_blocos WHERE camada = $1 AND fim < $2`,
			tier, now.Add(-spec.retention).UnixMilli())
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// HistoryPoint is a history point: for raw data min = max = valor.
type HistoryPoint struct {
	Momento time.Time `json:"momento"`
	Valor   float64   `json:"valor"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
}

// HistoryResult is the answer of GET /monitoramento/historico.
type HistoryResult struct {
	Metrica string         `json:"metrica"`
	Camada  string         `json:"camada" enum:"bruto,1min,1h"`
	De      time.Time      `json:"de"`
	Ate     time.Time      `json:"ate"`
	Pontos  []HistoryPoint `json:"pontos"`
}

// chooseTier picks the finest tier that still holds data from `from` and whose resolution is
// not needlessly finer than the answer's: (to-from)/points.
func chooseTier(now, from, to time.Time, points int) int {
	step := to.Sub(from) / time.Duration(points)
	tier := TierRaw
	if from.Before(now.Add(-tiers[TierRaw].retention)) || step >= tiers[TierMinute].step {
		tier = TierMinute
	}
	if from.Before(now.Add(-tiers[TierMinute].retention)) || step >= tiers[TierHour].step {
		tier = TierHour
	}
	return tier
}

// query returns at most `points` points of metric between from and to, from the tier that fits.
func (h *history) query(ctx context.Context, now time.Time, metric string, from, to time.Time, points int) (HistoryResult, error) {
	tier := chooseTier(now, from, to, points)
	res := HistoryResult{Metrica: metric, Camada: tierNames[tier], De: from.UTC(), Ate: to.UTC(), Pontos: []HistoryPoint{}}
	lo, hi := from.UnixMilli(), to.UnixMilli()

	var blobs [][]byte
	h.mu.Lock()
	openStart := int64(-1)
	if s := h.open[tier][metric]; s != nil && s.enc[0].Len() > 0 {
		openStart = s.start
		blobs = append(blobs, s.blob())
	}
	h.mu.Unlock()
	rows, err := h.st.DB.QueryContext(ctx, `SELECT inicio, dados FROM monitor_blocos
		WHERE metrica = $1 AND camada = $2 AND inicio <= $3 AND fim >= $4 ORDER BY inicio`, metric, tier, hi, lo)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var start int64
		var data []byte
		if err := rows.Scan(&start, &data); err != nil {
			rows.Close()
			return res, err
		}
		if start != openStart { // the open block is newer in memory
			blobs = append(blobs, data)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}

	var pts []HistoryPoint
	for _, b := range blobs {
		streams, err := splitBlob(b)
		if err != nil {
			return res, err
		}
		var cols [3][]float64
		var ts []int64
		for i, st := range streams {
			t, v, err := tsdb.Decode(st)
			if err != nil {
				return res, fmt.Errorf("monitor: block of %s: %w", metric, err)
			}
			ts, cols[i] = t, v
		}
		for i, t := range ts {
			if t < lo || t > hi {
				continue
			}
			p := HistoryPoint{Momento: time.UnixMilli(t).UTC(), Valor: cols[0][i], Min: cols[0][i], Max: cols[0][i]}
			if len(streams) == 3 && i < len(cols[1]) && i < len(cols[2]) {
				p.Min, p.Valor, p.Max = cols[0][i], cols[1][i], cols[2][i]
			}
			pts = append(pts, p)
		}
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].Momento.Before(pts[j].Momento) })
	res.Pontos = downsample(pts, from, to, points)
	return res, nil
}

// downsample merges pts (sorted) into at most n buckets of equal width over [from, to]: each
// bucket's min of mins, mean of values and max of maxes, at its first point's time.
func downsample(pts []HistoryPoint, from, to time.Time, n int) []HistoryPoint {
	if len(pts) <= n {
		if pts == nil {
			return []HistoryPoint{}
		}
		return pts
	}
	width := to.Sub(from) / time.Duration(n)
	if width <= 0 {
		width = 1
	}
	out := make([]HistoryPoint, 0, n)
	var cur HistoryPoint
	var sum float64
	var cnt int
	bucket := -1
	emit := func() {
		if cnt > 0 {
			cur.Valor = sum / float64(cnt)
			out = append(out, cur)
		}
	}
	for _, p := range pts {
		b := min(int(p.Momento.Sub(from)/width), n-1)
		if b != bucket {
			emit()
			bucket, cur, sum, cnt = b, p, 0, 0
		}
		cur.Min, cur.Max = math.Min(cur.Min, p.Min), math.Max(cur.Max, p.Max)
		sum += p.Valor
		cnt++
	}
	emit()
	return out
}
