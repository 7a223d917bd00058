package monitor

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
)

// Rule states, as the API names them.
const (
	StateInactive = "inativo"
	StatePending  = "pendente"
	StateFiring   = "disparado"
	StateResolved = "resolvido" // an event's state once its episode is over
)

// Channel types.
const (
	ChannelWebSocket = "websocket"
	ChannelWebhook   = "webhook"
	ChannelEmail     = "email"
)

// Canal is where a rule's notifications go.
type Canal struct {
	Tipo string `json:"tipo" enum:"websocket,webhook,email" doc:"websocket (pushed to /monitoramento/ws), webhook (JSON POST to url) or email (to para, via the configured SMTP server)"`
	URL  string `json:"url,omitempty" maxLength:"2048" doc:"Webhook URL (http or https)"`
	Para string `json:"para,omitempty" maxLength:"320" doc:"E-mail address"`
}

// Rule is an alert rule.
type Rule struct {
	ID                   int64     `json:"id"`
	Nome                 string    `json:"nome"`
	Metrica              string    `json:"metrica"`
	Operador             string    `json:"operador" enum:">,>=,<,<="`
	Limite               float64   `json:"limite"`
	LimiteRetorno        float64   `json:"limite_retorno" doc:"The level at which a firing alert clears (hysteresis): below it for > and >=, above it for < and <="`
	DuracaoSegundos      int64     `json:"duracao_segundos" doc:"How long the condition must hold before the alert fires"`
	Severidade           string    `json:"severidade" enum:"info,aviso,critico"`
	RepetirACadaSegundos int64     `json:"repetir_a_cada_segundos" doc:"While firing, notify again this often (0: never)"`
	Canais               []Canal   `json:"canais"`
	Ativo                bool      `json:"ativo"`
	Estado               string    `json:"estado" enum:"inativo,pendente,disparado"`
	CriadoEm             time.Time `json:"criado_em"`
	AtualizadoEm         time.Time `json:"atualizado_em"`
}

// holds reports whether v satisfies the rule's condition.
func (r *Rule) holds(v float64) bool {
	switch r.Operador {
	case ">":
		return v > r.Limite
	case ">=":
		return v >= r.Limite
	case "<":
		return v < r.Limite
	case "<=":
		return v <= r.Limite
	}
	return false
}

// clears reports whether v has crossed back past the return level.
func (r *Rule) clears(v float64) bool {
	if r.Operador == ">" || r.Operador == ">=" {
		return v < r.LimiteRetorno
	}
	return v > r.LimiteRetorno
}

// message describes a value against the rule.
func (r *Rule) message(v float64) string {
	return fmt.Sprintf("%s = %s %s %s", r.Metrica, formatValue(v), r.Operador, formatValue(r.Limite))
}

func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// Transition kinds.
const (
	Fired = iota + 1
	Resolved
	Repeated
)

// Transition is a change an evaluation produced: a rule fired, repeated its notification, or
// resolved.
type Transition struct {
	Kind  int
	Rule  Rule // a copy, as it was when evaluated
	Value float64
	At    time.Time
	// EventID is the firing episode's event (set by the caller for Fired, and remembered for
	// Repeated and Resolved).
	EventID int64
}

type ruleState struct {
	rule       Rule
	state      string
	since      time.Time // when the condition started to hold (pending)
	lastNotify time.Time
	eventID    int64
}

// engine evaluates the rules on every sample: inactive → pending (the condition holds) → firing
// (it held for duracao_segundos) → inactive again once the value crosses limite_retorno, which
// produces a Resolved transition. A pending rule whose condition stops holding goes back to
// inactive without firing, so a series that crosses and recrosses its limit faster than the
// duration never fires. A firing rule repeats its notification every repetir_a_cada_segundos.
// A sample without the rule's metric changes nothing but resets a pending rule.
//
// It is safe for concurrent use; evaluate is called by the collector, the rest by the API.
type engine struct {
	mu    sync.Mutex
	rules map[int64]*ruleState
}

func newEngine() *engine { return &engine{rules: map[int64]*ruleState{}} }

// reset forgets every rule and state.
func (e *engine) reset() {
	e.mu.Lock()
	e.rules = map[int64]*ruleState{}
	e.mu.Unlock()
}

// set installs or replaces a rule, keeping its state and open episode when it is replaced.
func (e *engine) set(r Rule) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st, ok := e.rules[r.ID]; ok {
		st.rule = r
		if !r.Ativo && st.state == StatePending {
			st.state = StateInactive
		}
		return
	}
	e.rules[r.ID] = &ruleState{rule: r, state: StateInactive}
}

// restore marks a rule as firing with an open episode (after a restart).
func (e *engine) restore(id, eventID int64, since time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st, ok := e.rules[id]; ok {
		st.state, st.eventID, st.since, st.lastNotify = StateFiring, eventID, since, since
	}
}

// remove drops a rule and returns its open episode's event id (0 if none).
func (e *engine) remove(id int64) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, ok := e.rules[id]
	if !ok {
		return 0
	}
	delete(e.rules, id)
	if st.state == StateFiring {
		return st.eventID
	}
	return 0
}

// state returns a rule's state.
func (e *engine) state(id int64) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st, ok := e.rules[id]; ok {
		return st.state
	}
	return StateInactive
}

// states returns every rule with its state.
func (e *engine) states() []Rule {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Rule, 0, len(e.rules))
	for _, st := range e.rules {
		r := st.rule
		r.Estado = st.state
		out = append(out, r)
	}
	return out
}

// evaluate applies one sample taken at now. For each Fired transition the caller records an
// event and calls setEvent with its id.
func (e *engine) evaluate(now time.Time, values map[string]float64) []Transition {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Transition
	for _, st := range e.rules {
		r := &st.rule
		v, ok := values[r.Metrica]
		if !ok || math.IsNaN(v) {
			if st.state == StatePending {
				st.state = StateInactive
			}
			continue
		}
		switch st.state {
		case StateInactive:
			if !r.Ativo || !r.holds(v) {
				continue
			}
			st.state, st.since = StatePending, now
			fallthrough
		case StatePending:
			if !r.Ativo || !r.holds(v) {
				st.state = StateInactive
				continue
			}
			if now.Sub(st.since) >= time.Duration(r.DuracaoSegundos)*time.Second {
				st.state, st.lastNotify, st.eventID = StateFiring, now, 0
				out = append(out, Transition{Kind: Fired, Rule: *r, Value: v, At: now})
			}
		case StateFiring:
			if r.clears(v) || !r.Ativo {
				st.state = StateInactive
				out = append(out, Transition{Kind: Resolved, Rule: *r, Value: v, At: now, EventID: st.eventID})
				continue
			}
			if r.RepetirACadaSegundos > 0 && now.Sub(st.lastNotify) >= time.Duration(r.RepetirACadaSegundos)*time.Second {
				st.lastNotify = now
				out = append(out, Transition{Kind: Repeated, Rule: *r, Value: v, At: now, EventID: st.eventID})
			}
		}
	}
	return out
}

// setEvent records the event of a rule's current firing episode.
func (e *engine) setEvent(ruleID, eventID int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st, ok := e.rules[ruleID]; ok && st.state == StateFiring {
		st.eventID = eventID
	}
}
