package monitor

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// run feeds one value per second to a fresh engine holding r and returns the transitions as a
// compact string: "F@3 R@9" (fired at second 3, resolved at 9; "P" for a repeat).
func runRule(r Rule, values []float64) string {
	e := newEngine()
	r.ID, r.Ativo = 1, true
	e.set(r)
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var out []string
	for i, v := range values {
		vals := map[string]float64{r.Metrica: v}
		if v < -1e300 { // a gap: the metric is missing from this sample
			vals = map[string]float64{}
		}
		for _, tr := range e.evaluate(t0.Add(time.Duration(i)*time.Second), vals) {
			out = append(out, fmt.Sprintf("%c@%d", "?FRP"[tr.Kind], i))
			if tr.Kind == Fired {
				e.setEvent(1, 100)
			} else if tr.EventID != 100 {
				out = append(out, "no-event")
			}
		}
	}
	return strings.Join(out, " ")
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func concat(parts ...[]float64) []float64 {
	var out []float64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

const gap = -1e308

func TestAlertStateMachine(t *testing.T) {
	cpu := Rule{Metrica: "cpu.total", Operador: ">", Limite: 80, LimiteRetorno: 70, DuracaoSegundos: 3}
	with := func(r Rule, f func(*Rule)) Rule { f(&r); return r }
	flap := make([]float64, 20)
	for i := range flap {
		flap[i] = 90
		if i%2 == 1 {
			flap[i] = 75 // crosses back below the limit every other second
		}
	}
	flapFast := make([]float64, 20)
	for i := range flapFast {
		flapFast[i] = []float64{85, 85, 60}[i%3] // holds 2 s, never 3
	}
	cases := []struct {
		name   string
		rule   Rule
		values []float64
		want   string
	}{
		{"crosses and recrosses every second: never fires", cpu, flap, ""},
		{"holds 2 s of 3, repeatedly: never fires", cpu, flapFast, ""},
		{"sustained crossing fires once, after 3 s", cpu, repeat(95, 30), "F@3"},
		{"exactly the duration", cpu, concat(repeat(50, 2), repeat(81, 4), repeat(50, 3)), "F@5 R@6"},
		{"clears only below limite_retorno", cpu, concat(repeat(90, 5), repeat(75, 5), repeat(71, 3), repeat(69.9, 1), repeat(72, 3)), "F@3 R@13"},
		{"in the hysteresis band after firing it stays firing", cpu, concat(repeat(90, 4), repeat(79, 20)), "F@3"},
		{"equal to limite_retorno does not clear", cpu, concat(repeat(90, 4), repeat(70, 5), repeat(10, 1)), "F@3 R@9"},
		{"refires after resolving", cpu, concat(repeat(90, 4), repeat(50, 2), repeat(90, 4)), "F@3 R@4 F@9"},
		{"repeats only per repetir_a_cada_segundos", with(cpu, func(r *Rule) { r.RepetirACadaSegundos = 5 }), repeat(90, 19), "F@3 P@8 P@13 P@18"},
		{"no repeat when 0", cpu, repeat(90, 60), "F@3"},
		{"zero duration fires on the first crossing", with(cpu, func(r *Rule) { r.DuracaoSegundos = 0 }), concat(repeat(50, 2), repeat(81, 1), repeat(10, 1)), "F@2 R@3"},
		{">= at the limit", with(cpu, func(r *Rule) { r.Operador = ">="; r.DuracaoSegundos = 0 }), []float64{79.9, 80, 69}, "F@1 R@2"},
		{"> at the limit does not fire", with(cpu, func(r *Rule) { r.DuracaoSegundos = 0 }), []float64{80, 80}, ""},
		{"< rule with return level above", Rule{Metrica: "mem.available", Operador: "<", Limite: 100, LimiteRetorno: 200, DuracaoSegundos: 1}, []float64{150, 90, 90, 150, 199, 201}, "F@2 R@5"},
		{"<= rule", Rule{Metrica: "x", Operador: "<=", Limite: 0, LimiteRetorno: 0}, []float64{1, 0, 0, 1}, "F@1 R@3"},
		{"a gap resets pending", cpu, concat(repeat(90, 2), []float64{gap}, repeat(90, 2), repeat(50, 1)), ""},
		{"a gap does not resolve a firing rule", cpu, concat(repeat(90, 4), repeat(gap, 5), repeat(50, 1)), "F@3 R@9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := runRule(c.rule, c.values); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestAlertEngineLifecycle(t *testing.T) {
	e := newEngine()
	t0 := time.Unix(1_800_000_000, 0)
	r := Rule{ID: 7, Metrica: "m", Operador: ">", Limite: 1, LimiteRetorno: 1, Ativo: true}
	e.set(r)
	if tr := e.evaluate(t0, map[string]float64{"m": 2}); len(tr) != 1 || tr[0].Kind != Fired {
		t.Fatalf("%+v", tr)
	}
	e.setEvent(7, 42)
	if e.state(7) != StateFiring {
		t.Fatal(e.state(7))
	}
	// Raising the limit keeps the episode; the next sample that clears resolves it.
	r.Limite, r.LimiteRetorno = 10, 5
	e.set(r)
	if tr := e.evaluate(t0.Add(time.Second), map[string]float64{"m": 6}); len(tr) != 0 {
		t.Fatalf("in band: %+v", tr)
	}
	if tr := e.evaluate(t0.Add(2*time.Second), map[string]float64{"m": 4}); len(tr) != 1 || tr[0].Kind != Resolved || tr[0].EventID != 42 {
		t.Fatalf("%+v", tr)
	}
	// Deactivating a firing rule resolves it; an inactive rule never fires.
	e.evaluate(t0.Add(3*time.Second), map[string]float64{"m": 20})
	e.setEvent(7, 43)
	r.Ativo = false
	e.set(r)
	if tr := e.evaluate(t0.Add(4*time.Second), map[string]float64{"m": 20}); len(tr) != 1 || tr[0].Kind != Resolved {
		t.Fatalf("deactivated: %+v", tr)
	}
	if tr := e.evaluate(t0.Add(5*time.Second), map[string]float64{"m": 20}); len(tr) != 0 {
		t.Fatalf("inactive fired: %+v", tr)
	}
	// Removing a firing rule returns its open event.
	r.Ativo = true
	e.set(r)
	e.evaluate(t0.Add(6*time.Second), map[string]float64{"m": 20})
	e.setEvent(7, 44)
	if id := e.remove(7); id != 44 {
		t.Fatalf("remove returned %d", id)
	}
	if len(e.states()) != 0 {
		t.Fatal("rule still there")
	}
}

func BenchmarkEvaluate(b *testing.B) {
	e := newEngine()
	values := map[string]float64{}
	for i := range 100 {
		name := fmt.Sprintf("metric.%d", i)
		values[name] = float64(i)
		e.set(Rule{ID: int64(i + 1), Metrica: name, Operador: ">", Limite: 50, LimiteRetorno: 40, DuracaoSegundos: 60, Ativo: true})
	}
	t0 := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.evaluate(t0.Add(time.Duration(i)*time.Second), values)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/rule")
}
