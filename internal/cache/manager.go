package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/store"
)

// DefaultBudget is the global byte budget across areas.
const DefaultBudget = 256 << 20

// defaultAreas are created on first start.
func defaultAreas() []AreaConfig {
	mb := int64(1 << 20)
	return []AreaConfig{
		{Nome: "padrao", Estrategia: "adaptativo", TamanhoMaxBytes: 64 * mb, Otimizar: true},
		{Nome: "dados_usuario", Estrategia: "lru", TamanhoMaxBytes: 32 * mb, Otimizar: true},
		{Nome: "consultas_db", Estrategia: "adaptativo", TamanhoMaxBytes: 64 * mb, Otimizar: true},
		{Nome: "relatorios", Estrategia: "ttl", TamanhoMaxBytes: 32 * mb, TTLPadraoSegundos: 3600, Otimizar: true},
		{Nome: "sessoes", Estrategia: "lru", TamanhoMaxBytes: 16 * mb, TTLPadraoSegundos: 1800, Otimizar: true},
		{Nome: "configuracoes", Estrategia: "fifo", TamanhoMaxBytes: 8 * mb, Otimizar: true},
	}
}

// Errors the API maps to statuses.
var (
	ErrNoArea     = errors.New("área não encontrada")
	ErrAreaExists = errors.New("área já existe")
	ErrBudget     = errors.New("orçamento global de bytes excedido")
)

// FieldError is bad input in one field.
type FieldError = httpapi.FieldError

var areaName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate checks an area configuration.
func (c *AreaConfig) Validate() error {
	switch {
	case !areaName.MatchString(c.Nome):
		return &FieldError{Field: "nome", Reason: "use 1 a 63 letras minúsculas, dígitos, _ ou -"}
	case !validStrategy(c.Estrategia):
		return &FieldError{Field: "estrategia", Reason: "use lru, lfu, fifo, ttl ou adaptativo"}
	case c.TamanhoMaxBytes < 1024:
		return &FieldError{Field: "tamanho_max_bytes", Reason: "mínimo 1024"}
	case c.MaxItens < 0:
		return &FieldError{Field: "max_itens", Reason: "não pode ser negativo"}
	case c.TTLPadraoSegundos < 0 || c.TTLPadraoSegundos > 365*24*3600:
		return &FieldError{Field: "ttl_padrao_segundos", Reason: "entre 0 e 31536000"}
	}
	return nil
}

func validStrategy(s string) bool {
	for _, x := range Strategies {
		if x == s {
			return true
		}
	}
	return false
}

// Manager holds the areas.
type Manager struct {
	st     *store.Store
	log    *slog.Logger
	budget int64
	seed   maphash.Seed
	tier   Tier // nil without Redis

	mu    sync.RWMutex
	areas map[string]*Area
}

// Tier is the shared cache behind the in-process one (Redis), which also
// carries invalidations between instances.
type Tier interface {
	Get(ctx context.Context, area, key string) (*Value, bool, error)
	Set(ctx context.Context, area string, v *Value) error
	Delete(ctx context.Context, area, key string) error
	DeleteTag(ctx context.Context, area, tag string) error
	Clear(ctx context.Context, area string) error
	// Invalidate tells every other instance to drop its local copies and
	// waits for them to acknowledge.
	Invalidate(ctx context.Context, inv Invalidation) error
}

// Invalidation is what other instances must drop.
type Invalidation struct {
	Op   string `json:"op"` // chave, tag, limpar, area
	Area string `json:"area"`
	Arg  string `json:"arg,omitempty"`
}

// NewManager loads the areas from the store, creating the defaults on
// first start.
func NewManager(ctx context.Context, st *store.Store, budget int64, log *slog.Logger) (*Manager, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if budget <= 0 {
		budget = DefaultBudget
	}
	m := &Manager{st: st, log: log, budget: budget, seed: maphash.MakeSeed(), areas: map[string]*Area{}}
	cfgs, err := m.load(ctx)
	if err != nil {
		return nil, err
	}
	if len(cfgs) == 0 {
		for _, c := range defaultAreas() {
			if err := m.save(ctx, c, true); err != nil && !store.IsUniqueViolation(err) {
				return nil, err
			}
		}
		if cfgs, err = m.load(ctx); err != nil {
			return nil, err
		}
	}
	for _, c := range cfgs {
		a, err := newArea(c, m.seed)
		if err != nil {
			return nil, fmt.Errorf("area %s: %w", c.Nome, err)
		}
		m.areas[c.Nome] = a
	}
	return m, nil
}

// SetTier puts a shared tier (Redis) behind the areas.
func (m *Manager) SetTier(t Tier) { m.tier = t }

func (m *Manager) load(ctx context.Context) ([]AreaConfig, error) {
	rows, err := m.st.DB.QueryContext(ctx, `SELECT nome, estrategia, tamanho_max_bytes, max_itens, ttl_padrao_segundos, otimizar
		FROM cache_areas ORDER BY nome`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AreaConfig
	for rows.Next() {
		var c AreaConfig
		var otim int
		if err := rows.Scan(&c.Nome, &c.Estrategia, &c.TamanhoMaxBytes, &c.MaxItens, &c.TTLPadraoSegundos, &otim); err != nil {
			return nil, err
		}
		c.Otimizar = otim != 0
		out = append(out, c)
	}
	return out, rows.Err()
}

func (m *Manager) save(ctx context.Context, c AreaConfig, insertOnly bool) error {
	now := time.Now().UnixMilli()
	otim := 0
	if c.Otimizar {
		otim = 1
	}
	q := `INSERT INTO cache_areas (nome, estrategia, tamanho_max_bytes, max_itens, ttl_padrao_segundos, otimizar, criado_em, atualizado_em)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$7)`
	if !insertOnly {
		q += ` ON CONFLICT (nome) DO UPDATE SET estrategia = excluded.estrategia, tamanho_max_bytes = excluded.tamanho_max_bytes,
			max_itens = excluded.max_itens, ttl_padrao_segundos = excluded.ttl_padrao_segundos, otimizar = excluded.otimizar,
			atualizado_em = excluded.atualizado_em`
	}
	_, err := m.st.DB.ExecContext(ctx, q, c.Nome, c.Estrategia, c.TamanhoMaxBytes, c.MaxItens, c.TTLPadraoSegundos, otim, now)
	return err
}

// Area returns the named area.
func (m *Manager) Area(name string) (*Area, error) {
	m.mu.RLock()
	a := m.areas[name]
	m.mu.RUnlock()
	if a == nil {
		return nil, ErrNoArea
	}
	return a, nil
}

// Areas lists the areas by name.
func (m *Manager) Areas() []*Area {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Area, 0, len(m.areas))
	for _, a := range m.areas {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cfg.Nome < out[j].cfg.Nome })
	return out
}

// Budget is the global byte budget and how much the areas reserve.
func (m *Manager) Budget() (budget, reserved int64) {
	for _, a := range m.Areas() {
		reserved += a.Config().TamanhoMaxBytes
	}
	return m.budget, reserved
}

// PutArea creates or reconfigures an area; the areas' sizes must fit the
// global budget.
func (m *Manager) PutArea(ctx context.Context, c AreaConfig) (created bool, err error) {
	if err := c.Validate(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var others int64
	for n, a := range m.areas {
		if n != c.Nome {
			others += a.Config().TamanhoMaxBytes
		}
	}
	if others+c.TamanhoMaxBytes > m.budget {
		return false, fmt.Errorf("%w: as outras áreas reservam %d de %d bytes; sobram %d", ErrBudget, others, m.budget, m.budget-others)
	}
	if err := m.save(ctx, c, false); err != nil {
		return false, err
	}
	if a := m.areas[c.Nome]; a != nil {
		if err := a.reconfigure(c); err != nil {
			return false, err
		}
	} else {
		a, err := newArea(c, m.seed)
		if err != nil {
			return false, err
		}
		m.areas[c.Nome] = a
		created = true
	}
	m.invalidate(ctx, Invalidation{Op: "area", Area: c.Nome})
	return created, nil
}

// DeleteArea removes an area and its items.
func (m *Manager) DeleteArea(ctx context.Context, name string) error {
	m.mu.Lock()
	a := m.areas[name]
	if a == nil {
		m.mu.Unlock()
		return ErrNoArea
	}
	if _, err := m.st.DB.ExecContext(ctx, `DELETE FROM cache_areas WHERE nome = $1`, name); err != nil {
		m.mu.Unlock()
		return err
	}
	delete(m.areas, name)
	m.mu.Unlock()
	a.Clear()
	if m.tier != nil {
		if err := m.tier.Clear(ctx, name); err != nil {
			return err
		}
	}
	m.invalidate(ctx, Invalidation{Op: "area", Area: name})
	return nil
}

// invalidate tells other instances, logging (not failing) when the shared
// tier cannot be reached: the local state is already right.
func (m *Manager) invalidate(ctx context.Context, inv Invalidation) {
	if m.tier == nil {
		return
	}
	if err := m.tier.Invalidate(ctx, inv); err != nil {
		m.log.WarnContext(ctx, "cache invalidation not acknowledged by every instance", "op", inv.Op, "area", inv.Area, "error", err)
	}
}

// ApplyRemote applies an invalidation that another instance published.
func (m *Manager) ApplyRemote(ctx context.Context, inv Invalidation) {
	switch inv.Op {
	case "chave":
		if a, err := m.Area(inv.Area); err == nil {
			a.gen.Add(1)
			a.cache().Delete(inv.Arg)
		}
	case "tag":
		if a, err := m.Area(inv.Area); err == nil {
			a.DeleteTag(inv.Arg)
		}
	case "limpar":
		if a, err := m.Area(inv.Area); err == nil {
			a.Clear()
		}
	case "area":
		m.reloadArea(ctx, inv.Area)
	}
}

// Reload re-reads every area's configuration from the store (after the database was restored
// under the service): areas it no longer has are dropped, new ones created, changed ones
// reconfigured and emptied.
func (m *Manager) Reload(ctx context.Context) error {
	cfgs, err := m.load(ctx)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, c := range cfgs {
		names[c.Nome] = true
	}
	m.mu.Lock()
	for n := range m.areas {
		names[n] = true
	}
	m.mu.Unlock()
	for n := range names {
		m.reloadArea(ctx, n)
	}
	return nil
}

// reloadArea re-reads an area's configuration after another instance
// changed it.
func (m *Manager) reloadArea(ctx context.Context, name string) {
	var c AreaConfig
	var otim int
	err := m.st.DB.QueryRowContext(ctx, `SELECT nome, estrategia, tamanho_max_bytes, max_itens, ttl_padrao_segundos, otimizar
		FROM cache_areas WHERE nome = $1`, name).Scan(&c.Nome, &c.Estrategia, &c.TamanhoMaxBytes, &c.MaxItens, &c.TTLPadraoSegundos, &otim)
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.areas[name]
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if a != nil {
			delete(m.areas, name)
			a.Clear()
		}
	case err != nil:
		m.log.Warn("cache: reload area", "area", name, "error", err)
	case a == nil:
		c.Otimizar = otim != 0
		if na, err := newArea(c, m.seed); err == nil {
			m.areas[name] = na
		}
	default:
		c.Otimizar = otim != 0
		a.Clear() // another instance changed it: start clean rather than keep stale data
		if err := a.reconfigure(c); err != nil {
			m.log.Warn("cache: reconfigure area", "area", name, "error", err)
		}
	}
}

// Run snapshots the time series every 10 s and runs the optimiser every
// interval (0: never) until ctx ends.
func (m *Manager) Run(ctx context.Context, optimiseEvery time.Duration) error {
	snap := time.NewTicker(10 * time.Second)
	defer snap.Stop()
	var opt <-chan time.Time
	if optimiseEvery > 0 {
		t := time.NewTicker(optimiseEvery)
		defer t.Stop()
		opt = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-snap.C:
			for _, a := range m.Areas() {
				a.snapshot(now)
				if c := a.cache(); c.Len() > 0 {
					c.RemoveExpired() // counted as expiries by the area's OnEvict
				}
			}
		case <-opt:
			if _, err := m.Optimise(ctx, false); err != nil {
				m.log.Warn("cache: periodic optimisation failed", "error", err)
			}
		}
	}
}
