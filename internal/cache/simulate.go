package cache

import (
	"fmt"

	"github.com/maypok86/otter/v2"

	"github.com/painel-universal/painel/internal/cache/sim"
)

// SimPolicies are the policies the what-if simulator replays.
func SimPolicies() []string { return []string{"lru", "lfu", "fifo", "arc", "adaptativo"} }

// NewSimulator returns a simulator of policy holding capacity entries:
// the exact simulators of package sim, and for "adaptativo" the same
// W-TinyLFU engine (otter v2, with hill climbing) that the adaptive areas
// run.
func NewSimulator(policy string, capacity int) (sim.Simulator, error) {
	if capacity < 1 {
		return nil, fmt.Errorf("capacity must be at least 1")
	}
	if policy == "adaptativo" {
		// A synchronous executor runs otter's maintenance (admission and
		// eviction) inside each Set, so a replay never holds more than
		// capacity entries and is repeatable.
		return &adaptiveSim{c: otter.Must(&otter.Options[uint64, struct{}]{
			MaximumSize: capacity,
			Executor:    func(fn func()) { fn() },
		})}, nil
	}
	return sim.NewSimulator(policy, capacity)
}

type adaptiveSim struct {
	c *otter.Cache[uint64, struct{}]
}

func (a *adaptiveSim) Name() string { return "adaptativo" }

func (a *adaptiveSim) Access(key uint64) bool {
	if _, ok := a.c.GetIfPresent(key); ok {
		return true
	}
	a.c.Set(key, struct{}{})
	return false
}
