package tsdb

import (
	"math"
	"math/rand/v2"
)

// synthSeries is one generated metric.
type synthSeries struct {
	name string
	prec float64
	ts   []int64
	vs   []float64
}

// synthHost generates n seconds of metrics shaped like a real host's,
// sampled together at 1 Hz with ±5 ms jitter, with a fixed seed.
func synthHost(seed uint64, n int) []synthSeries {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	ts := make([]int64, n)
	const t0 = int64(1_760_000_000_000)
	for i := range ts {
		ts[i] = t0 + int64(i)*1000 + int64(r.IntN(11)-5)
	}
	dt := func(i int) float64 { // seconds since the previous sample
		if i == 0 {
			return 1
		}
		return float64(ts[i]-ts[i-1]) / 1000
	}
	clamp := func(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }
	mk := func(name string, prec float64, gen func(i int) float64) synthSeries {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = gen(i)
		}
		return synthSeries{name, prec, ts, vs}
	}
	var out []synthSeries

	// Utilisation wanders slowly with occasional jumps; the CPU % come
	// from jiffies (100 Hz per core), as /proc/stat gives them.
	util := make([]float64, n)
	u := 0.2
	for i := range util {
		u = clamp(u+r.NormFloat64()*0.01, 0.02, 0.95)
		if r.IntN(900) == 0 {
			u = clamp(u+r.NormFloat64()*0.3, 0.02, 0.95)
		}
		util[i] = u
	}
	out = append(out, mk("cpu.total_pct", 0.01, func(i int) float64 {
		total := 800 + float64(r.IntN(5)-2)
		busy := clamp(math.Round(total*util[i]+r.NormFloat64()*20), 0, total)
		return busy / total * 100
	}))
	for _, name := range []string{"cpu.core0_pct", "cpu.core1_pct"} {
		out = append(out, mk(name, 0.01, func(i int) float64 {
			total := 100 + float64(r.IntN(3)-1)
			busy := clamp(math.Round(total*util[i]+r.NormFloat64()*8), 0, total)
			return busy / total * 100
		}))
	}

	// Memory in kB units (as /proc/meminfo), drifting by ~2 MB a second
	// with an occasional large allocation or release.
	const memTotal = 16 << 30
	mem := 6.0 * (1 << 30)
	memUsed := mk("mem.used_bytes", 1, func(int) float64 {
		mem += math.Round(r.NormFloat64()*2048) * 1024
		if r.IntN(600) == 0 {
			mem += math.Round(r.NormFloat64()*200*1024) * 1024
		}
		mem = clamp(mem, 1<<30, 15<<30)
		return mem
	})
	out = append(out, memUsed)
	out = append(out, mk("mem.used_pct", 0.01, func(i int) float64 { return memUsed.vs[i] / memTotal * 100 }))

	// Load averages: the kernel updates them every 5 s and /proc/loadavg
	// prints two decimals.
	for _, ld := range []struct {
		name string
		min  float64
	}{{"load1", 1}, {"load5", 5}} {
		load := 1.0
		decay := math.Exp(-5 / (60 * ld.min))
		out = append(out, mk(ld.name, 0.01, func(i int) float64 {
			if i%5 == 0 {
				runnable := math.Max(0, math.Round(util[i]*8+r.NormFloat64()))
				load = load*decay + runnable*(1-decay)
			}
			return math.Round(load*100) / 100
		}))
	}

	disk := 50e9
	out = append(out, mk("disk.used_bytes", 1, func(int) float64 {
		if r.IntN(10) == 0 {
			disk += float64(r.IntN(64)) * 4096
		}
		if r.IntN(3600) == 0 {
			disk -= float64(r.IntN(1<<18)) * 4096
		}
		return disk
	}))

	// Network rates: noisy background around 20 kB/s with bursts of
	// 1-50 MB/s lasting seconds to a minute; bytes over the real interval.
	for _, name := range []string{"net.rx_bps", "net.tx_bps"} {
		burst, rate := 0, 0.0
		out = append(out, mk(name, 1, func(i int) float64 {
			base := 20000 * math.Exp(r.NormFloat64()*0.5)
			if burst == 0 && r.IntN(300) == 0 {
				burst = 5 + r.IntN(55)
				rate = 1e6 * (1 + r.Float64()*49)
			}
			bytes := math.Round(base * dt(i))
			if burst > 0 {
				burst--
				bytes += math.Round(rate * (0.8 + 0.4*r.Float64()) * dt(i))
			}
			return bytes / dt(i)
		}))
	}

	// Disk I/O: zero most seconds, bursts of 4 KiB blocks.
	for _, name := range []string{"disk.read_bps", "disk.write_bps"} {
		burst := 0
		out = append(out, mk(name, 1, func(i int) float64 {
			if burst == 0 && r.IntN(120) == 0 {
				burst = 1 + r.IntN(10)
			}
			if burst > 0 || r.IntN(20) == 0 {
				if burst > 0 {
					burst--
				}
				return float64(r.IntN(2000)*4096) / dt(i)
			}
			return 0
		}))
	}

	g := 40.0
	out = append(out, mk("self.goroutines", 1, func(int) float64 {
		if r.IntN(4) == 0 {
			g = clamp(g+float64(r.IntN(5)-2), 30, 80)
		}
		return g
	}))
	files := 25.0
	out = append(out, mk("self.open_files", 1, func(int) float64 {
		if r.IntN(60) == 0 {
			files = clamp(files+float64(r.IntN(3)-1), 15, 60)
		}
		return files
	}))
	return out
}
