package cache

import (
	"encoding/binary"
	"fmt"

	"github.com/painel-universal/painel/internal/cache/policy"
	"github.com/painel-universal/painel/internal/cache/sim"
)

// SimPolicies are the policies the what-if simulator replays.
func SimPolicies() []string { return []string{"lru", "lfu", "fifo", "arc", "adaptativo"} }

// NewSimulator returns a simulator of policy holding capacity entries:
// the exact simulators of package sim, and for "adaptativo" the adaptive
// areas' own policy (policy.NewAdaptiveEntries: the same engines, miniature
// simulations and switching logic, with unit weights), fed Get and, on a
// miss, Set of an empty entry whose key is the 8 bytes of the integer key.
func NewSimulator(name string, capacity int) (sim.Simulator, error) {
	if capacity < 1 {
		return nil, fmt.Errorf("capacity must be at least 1")
	}
	if name == "adaptativo" {
		c, err := policy.NewAdaptiveEntries(capacity, nil)
		if err != nil {
			return nil, err
		}
		return &adaptiveSim{c: c}, nil
	}
	return sim.NewSimulator(name, capacity)
}

type adaptiveSim struct {
	c   policy.Cache
	buf [8]byte
}

func (a *adaptiveSim) Name() string { return "adaptativo" }

func (a *adaptiveSim) Access(key uint64) bool {
	binary.LittleEndian.PutUint64(a.buf[:], key)
	k := string(a.buf[:])
	if _, ok := a.c.Get(k); ok {
		return true
	}
	_ = a.c.Set(&policy.Entry{Key: k})
	return false
}
