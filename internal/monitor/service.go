package monitor

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/monitor/collect"
	"github.com/painel-universal/painel/internal/store"
)

// Source produces samples: the host collector, or a fake in tests.
type Source interface {
	Collect(now time.Time) (collect.Sample, error)
}

// Config configures the service.
type Config struct {
	// Interval between samples (default 1 s, at least 250 ms).
	Interval time.Duration
	// Source of samples; nil means the host collector (collect.New with defaults).
	Source Source
	// Precision returns the storage quantum of a metric; nil means collect.Precision.
	Precision func(string) float64
	// SMTP for e-mail channels; Addr empty disables e-mail (rules that use it log a warning).
	SMTP SMTPConfig
	// WebhookTimeout per attempt (default 5 s); WebhookRetries after the first attempt
	// (default 3, with backoff 1 s, 2 s, 4 s).
	WebhookTimeout time.Duration
	WebhookRetries int
	// RetryBackoff is the first retry's delay, doubled at every retry (default 1 s).
	RetryBackoff time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// FlushEvery is how often the open history blocks are written (default 1 min).
	FlushEvery time.Duration
}

// SMTPConfig is an SMTP server for e-mail notifications.
type SMTPConfig struct {
	Addr     string // host:port
	From     string
	User     string
	Password string
}

// recentWindow is how much of the main series the snapshot and the dashboard trend keep.
const recentWindow = 5 * time.Minute

// Service collects host metrics, keeps their history, evaluates alert rules, notifies, and
// streams everything to WebSocket clients.
type Service struct {
	st   *store.Store
	log  *slog.Logger
	cfg  Config
	now  func() time.Time
	src  Source
	eng  *engine
	hist *history
	hub  *hub
	ntf  *notifier

	latest atomic.Pointer[snapshotSample]

	recMu  sync.Mutex
	recent []snapshotSample // the last recentWindow of samples, oldest first

	silMu    sync.Mutex
	silences []Silence

	ctxMu   sync.Mutex
	ctx     context.Context // the Run context, for WebSocket clients; nil before Run
	stopped atomic.Bool

	samples   atomic.Int64
	errors    atomic.Int64
	closeSrc  func() error
	lastFlush time.Time
	lastExp   time.Time
}

type snapshotSample struct {
	at     time.Time
	values map[string]float64
}

// New loads the rules (creating the defaults on first start) and silences, and prepares the
// collector. Call Run to start sampling.
func New(ctx context.Context, st *store.Store, cfg Config, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	cfg.Interval = max(cfg.Interval, 250*time.Millisecond)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Precision == nil {
		cfg.Precision = collect.Precision
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = time.Minute
	}
	s := &Service{st: st, log: log, cfg: cfg, now: cfg.Now, eng: newEngine(), hub: newHub()}
	s.hist = newHistory(st, cfg.Precision)
	s.ntf = newNotifier(cfg, log)
	if cfg.Source != nil {
		s.src = cfg.Source
	} else {
		c, err := collect.New(collect.Options{})
		if err != nil {
			return nil, err
		}
		s.src, s.closeSrc = c, c.Close
	}
	if err := s.loadRules(ctx); err != nil {
		return nil, err
	}
	sl, err := s.ListSilences(ctx)
	if err != nil {
		return nil, err
	}
	s.silences = sl
	return s, nil
}

// Run samples every interval until ctx ends, then writes the open history blocks and waits for
// the notifications in flight (bounded by their timeouts).
func (s *Service) Run(ctx context.Context) error {
	s.ctxMu.Lock()
	s.ctx = ctx
	s.ctxMu.Unlock()
	s.ntf.start(ctx)
	defer func() {
		s.stopped.Store(true)
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.hist.flush(fctx); err != nil {
			s.log.Error("monitor: flushing history", "error", err)
		}
		s.ntf.wait()
		if s.closeSrc != nil {
			_ = s.closeSrc()
		}
	}()
	s.lastFlush, s.lastExp = s.now(), time.Time{}
	s.Step(ctx)
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			s.Step(ctx)
		}
	}
}

// Step takes one sample and does everything that follows from it: history, alert
// evaluation, notifications and the live stream. Run calls it every interval.
func (s *Service) Step(ctx context.Context) {
	now := s.now()
	smp, err := s.src.Collect(now)
	if err != nil && len(smp.Metrics) == 0 {
		s.errors.Add(1)
		s.log.Warn("monitor: collecting", "error", err)
		return
	}
	at := smp.Time
	if at.IsZero() {
		at = now
	}
	values := make(map[string]float64, len(smp.Metrics))
	for _, m := range smp.Metrics {
		values[m.Name] = m.Value
	}
	snap := snapshotSample{at: at, values: values}
	s.latest.Store(&snap)
	s.samples.Add(1)
	s.recMu.Lock()
	s.recent = append(s.recent, snap)
	cut := 0
	for cut < len(s.recent) && at.Sub(s.recent[cut].at) > recentWindow {
		cut++
	}
	s.recent = s.recent[cut:]
	s.recMu.Unlock()

	// Alerts first: a notification must leave within a second of the change.
	for _, tr := range s.eng.evaluate(at, values) {
		s.handle(ctx, tr)
	}
	s.hub.broadcastSample(at, values)

	if err := s.hist.add(ctx, at, values); err != nil {
		s.log.Error("monitor: history", "error", err)
	}
	if now.Sub(s.lastFlush) >= s.cfg.FlushEvery {
		s.lastFlush = now
		if err := s.hist.flush(ctx); err != nil {
			s.log.Error("monitor: flushing history", "error", err)
		}
	}
	if now.Sub(s.lastExp) >= time.Hour {
		s.lastExp = now
		if _, err := s.hist.expire(ctx, now); err != nil {
			s.log.Error("monitor: expiring history", "error", err)
		}
	}
}

// handle records a transition and sends its notifications.
func (s *Service) handle(ctx context.Context, tr Transition) {
	var ev Event
	var err error
	switch tr.Kind {
	case Fired:
		ev, err = s.recordFired(ctx, tr)
		if err == nil {
			s.eng.setEvent(tr.Rule.ID, ev.ID)
		}
	case Resolved:
		ev, err = s.recordResolved(ctx, tr)
	case Repeated:
		ev, err = s.GetEvent(ctx, tr.EventID)
	}
	if err != nil {
		s.log.Error("monitor: recording an alert", "regra", tr.Rule.ID, "error", err)
		if tr.Kind != Fired {
			return
		}
		ev = Event{RegraID: tr.Rule.ID, RegraNome: tr.Rule.Nome, Metrica: tr.Rule.Metrica, Severidade: tr.Rule.Severidade,
			Estado: StateFiring, Valor: tr.Value, Limite: tr.Rule.Limite, Mensagem: tr.Rule.message(tr.Value), DisparadoEm: tr.At}
	}
	tr.Rule.Estado = StateFiring
	if tr.Kind == Resolved {
		tr.Rule.Estado = StateInactive
	}
	s.log.Info("monitor: alert", "regra", tr.Rule.Nome, "estado", ev.Estado, "valor", tr.Value, "repeticao", tr.Kind == Repeated)
	if s.silenced(tr.Rule, tr.At) {
		return
	}
	for _, c := range tr.Rule.Canais {
		switch c.Tipo {
		case ChannelWebSocket:
			s.hub.broadcastEvent(ev, tr.Kind == Repeated)
		case ChannelWebhook:
			s.ntf.webhook(c.URL, ev, tr.Rule, tr.Kind)
		case ChannelEmail:
			s.ntf.email(c.Para, ev, tr.Rule, tr.Kind)
		}
	}
}

func (s *Service) runCtx(fallback context.Context) context.Context {
	s.ctxMu.Lock()
	defer s.ctxMu.Unlock()
	if s.ctx == nil {
		return fallback
	}
	// ends with the request or the service, whichever first
	ctx, cancel := context.WithCancel(fallback)
	stop := context.AfterFunc(s.ctx, cancel)
	context.AfterFunc(ctx, func() { stop() })
	return ctx
}

func (s *Service) stopping() bool { return s.stopped.Load() || (s.ctx != nil && s.ctx.Err() != nil) }

// Latest is the last sample (zero time before the first).
func (s *Service) Latest() (time.Time, map[string]float64) {
	if p := s.latest.Load(); p != nil {
		return p.at, p.values
	}
	return time.Time{}, map[string]float64{}
}

// Names lists the metric names of the last sample.
func (s *Service) Names() []string {
	_, v := s.Latest()
	out := make([]string, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// mainSeries reports whether a metric is charted in the snapshot.
func mainSeries(name string) bool {
	return name == "cpu.total" || name == "mem.used_pct" ||
		(strings.HasPrefix(name, "disk.") && strings.HasSuffix(name, ".used_pct")) ||
		(strings.HasPrefix(name, "net.") && (strings.HasSuffix(name, ".rx_bps") || strings.HasSuffix(name, ".tx_bps")))
}

// Snapshot is the first WebSocket message.
type Snapshot struct {
	Tipo          string                  `json:"tipo"`
	Momento       time.Time               `json:"momento"`
	Valores       map[string]float64      `json:"valores"`
	Series        map[string][][2]float64 `json:"series"`
	AlertasAtivos []Event                 `json:"alertas_ativos"`
}

func (s *Service) snapshot(ctx context.Context, filter map[string]bool) Snapshot {
	at, values := s.Latest()
	snap := Snapshot{Tipo: "snapshot", Momento: at.UTC(), Valores: filterValues(values, filter), Series: map[string][][2]float64{}}
	s.recMu.Lock()
	for _, r := range s.recent {
		t := float64(r.at.UnixMilli()) / 1000
		for name, v := range r.values {
			if (filter == nil && mainSeries(name)) || filter[name] {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					snap.Series[name] = append(snap.Series[name], [2]float64{t, v})
				}
			}
		}
	}
	s.recMu.Unlock()
	ev, err := s.ActiveEvents(ctx)
	if err != nil {
		ev = []Event{}
	}
	snap.AlertasAtivos = ev
	return snap
}

// Trend summarises a metric over the last five minutes.
type Trend struct {
	Inicio float64 `json:"inicio"`
	Fim    float64 `json:"fim"`
	Media  float64 `json:"media"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Dashboard is GET /monitoramento/dashboard.
type Dashboard struct {
	Momento            time.Time          `json:"momento"`
	Atuais             map[string]float64 `json:"atuais"`
	Tendencia5Min      map[string]Trend   `json:"tendencia_5min"`
	AlertasAtivos      []Event            `json:"alertas_ativos"`
	PiorDisco          *WorstDisk         `json:"pior_disco"`
	InterfaceMaisAtiva *BusiestInterface  `json:"interface_mais_ativa"`
}

// WorstDisk is the fullest mount.
type WorstDisk struct {
	Ponto   string  `json:"ponto"`
	UsedPct float64 `json:"used_pct"`
}

// BusiestInterface is the interface moving the most bytes.
type BusiestInterface struct {
	Nome  string  `json:"nome"`
	RxBps float64 `json:"rx_bps"`
	TxBps float64 `json:"tx_bps"`
}

// Dashboard summarises the current state.
func (s *Service) Dashboard(ctx context.Context) (Dashboard, error) {
	at, values := s.Latest()
	d := Dashboard{Momento: at.UTC(), Atuais: values, Tendencia5Min: map[string]Trend{}}
	s.recMu.Lock()
	for _, r := range s.recent {
		for name, v := range r.values {
			if !mainSeries(name) && !strings.HasPrefix(name, "load.") {
				continue
			}
			t, ok := d.Tendencia5Min[name]
			if !ok {
				t = Trend{Inicio: v, Min: v, Max: v}
			}
			t.Fim, t.Media = v, t.Media+v // sum for now
			t.Min, t.Max = math.Min(t.Min, v), math.Max(t.Max, v)
			d.Tendencia5Min[name] = t
		}
	}
	counts := map[string]int{}
	for _, r := range s.recent {
		for name := range r.values {
			counts[name]++
		}
	}
	s.recMu.Unlock()
	for name, t := range d.Tendencia5Min {
		t.Media /= float64(counts[name])
		d.Tendencia5Min[name] = t
	}
	for name, v := range values {
		if strings.HasPrefix(name, "disk.") && strings.HasSuffix(name, ".used_pct") {
			if d.PiorDisco == nil || v > d.PiorDisco.UsedPct {
				d.PiorDisco = &WorstDisk{Ponto: strings.TrimSuffix(strings.TrimPrefix(name, "disk."), ".used_pct"), UsedPct: v}
			}
		}
		if strings.HasPrefix(name, "net.") && strings.HasSuffix(name, ".rx_bps") {
			iface := strings.TrimSuffix(strings.TrimPrefix(name, "net."), ".rx_bps")
			tx := values["net."+iface+".tx_bps"]
			if d.InterfaceMaisAtiva == nil || v+tx > d.InterfaceMaisAtiva.RxBps+d.InterfaceMaisAtiva.TxBps {
				d.InterfaceMaisAtiva = &BusiestInterface{Nome: iface, RxBps: v, TxBps: tx}
			}
		}
	}
	ev, err := s.ActiveEvents(ctx)
	d.AlertasAtivos = ev
	return d, err
}

// History answers GET /monitoramento/historico.
func (s *Service) History(ctx context.Context, metric string, from, to time.Time, points int) (HistoryResult, error) {
	return s.hist.query(ctx, s.now(), metric, from, to, points)
}

// FlushHistory writes the open history blocks now.
func (s *Service) FlushHistory(ctx context.Context) error { return s.hist.flush(ctx) }

func writeProblem(w http.ResponseWriter, r *http.Request, status int, title, location, msg string) {
	httpapi.WriteProblem(w, httpapi.Problem{Status: status, Title: title, Instance: r.URL.Path,
		RequestID: httpapi.RequestID(r.Context()), Errors: []*huma.ErrorDetail{{Location: location, Message: msg}}})
}
