package monitor

// Benchmarks of the live stream's fan-out and of one full Step (issue 5, acceptance 5 and 6).
// bench/monitor/fanout.sh runs TestFanout1000 and writes bench/monitor/FANOUT.md.

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/painel-universal/painel/internal/monitor/collect"
)

// TestFanout1000 connects 1,000 loopback WebSocket clients to /monitoramento/ws, each reading in
// its own goroutine, and broadcasts 60 realistic samples (60 metrics, ~1.5 KB of JSON) 200 ms
// apart through the hub. Every client records when each sample arrives; the latency is that
// instant minus the instant the sample was handed to broadcastSample (the sample is identified
// by its "t" field; the precise send instant is kept here, since "t" has millisecond
// resolution). A second variant keeps 10 of the 1,000 clients connected without ever reading
// and measures the other 990. So that those 10 really block the server's writes within the run,
// the handler is served through a listener with a fixed 16 KiB send buffer per socket (loopback
// autotuning would otherwise buffer megabytes) and the stuck clients use a 4 KiB receive buffer.
// The two variants alternate over 3 rounds; medians are reported.
//
// It reports latency p50/p99/max over all deliveries, the per-sample time until the last client
// had it, deliveries per second, clients that skipped samples (latest-wins), when the stuck
// clients were dropped, and the process CPU time per broadcast (getrusage: the server's writes
// and the clients' reads, which run in this same process). Only correctness is asserted: every
// reading client gets samples in order, without duplicates, ending with the last one (skips
// allowed and counted), and is never dropped. Timings are logged, not asserted.
//
//	PAINEL_BENCH_FANOUT=1 go test -run TestFanout1000 -v -timeout 10m ./internal/monitor/
//
// Knobs: PAINEL_BENCH_FANOUT_CLIENTS (1000), _SAMPLES (60), _EVERY (200ms), _STUCK (10),
// _ROUNDS (3), and PAINEL_BENCH_FANOUT_OUT=file to also write the results as Markdown tables.
func TestFanout1000(t *testing.T) {
	if os.Getenv("PAINEL_BENCH_FANOUT") != "1" {
		t.Skip("benchmark: set PAINEL_BENCH_FANOUT=1 (bench/monitor/fanout.sh does)")
	}
	clients := envInt(t, "PAINEL_BENCH_FANOUT_CLIENTS", 1000)
	samples := envInt(t, "PAINEL_BENCH_FANOUT_SAMPLES", 60)
	stuck := envInt(t, "PAINEL_BENCH_FANOUT_STUCK", 10)
	every := 200 * time.Millisecond
	if v := os.Getenv("PAINEL_BENCH_FANOUT_EVERY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("PAINEL_BENCH_FANOUT_EVERY=%q: want a positive duration", v)
		}
		every = d
	}
	if samples < 2 || clients < 1 || stuck < 0 || stuck >= clients {
		t.Fatalf("clients=%d samples=%d stuck=%d: want clients ≥ 1, samples ≥ 2, 0 ≤ stuck < clients", clients, samples, stuck)
	}
	// Each client holds two descriptors here (its end and the server's).
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if need := uint64(2*clients + 256); lim.Cur < need {
		t.Fatalf("open-file limit %d is below the %d that %d clients need: raise it (ulimit -n 20000)", lim.Cur, need, clients)
	}
	seq := sampleSeries(samples)
	t.Logf("%d clients, %d samples %v apart, %d metrics per sample, %d bytes of JSON each; GOMAXPROCS-visible CPUs %d; open-file limit %d",
		clients, samples, every, len(seq[0]), sampleJSONSize(seq[0]), runtime.NumCPU(), lim.Cur)

	rounds := envInt(t, "PAINEL_BENCH_FANOUT_ROUNDS", 3)
	if rounds < 1 {
		t.Fatalf("PAINEL_BENCH_FANOUT_ROUNDS=%d: want at least 1", rounds)
	}
	variants := []int{0}
	if stuck > 0 {
		variants = append(variants, stuck)
	}
	// The variants alternate (A B, B A, A B, …) so that drifting background load hits both alike.
	byVariant := map[int][]fanoutResult{}
	var runs []fanoutResult
	for round := range rounds {
		order := slices.Clone(variants)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, nstuck := range order {
			name := "all-read"
			if nstuck > 0 {
				name = fmt.Sprintf("%d-stuck", nstuck)
			}
			t.Run(fmt.Sprintf("%s/round-%d", name, round+1), func(t *testing.T) {
				r := runFanout(t, clients, nstuck, seq, every)
				r.round, r.rounds = round+1, 1
				t.Log(r.String())
				byVariant[nstuck] = append(byVariant[nstuck], r)
				runs = append(runs, r)
			})
		}
	}
	var medians []fanoutResult
	for _, nstuck := range variants {
		if len(byVariant[nstuck]) == rounds {
			m := medianResult(byVariant[nstuck])
			t.Logf("median of %d rounds: %s", rounds, m.String())
			medians = append(medians, m)
		}
	}
	ratio := 0.0
	if len(medians) == 2 && medians[0].p99 > 0 {
		ratio = float64(medians[1].p99) / float64(medians[0].p99)
		t.Logf("median p99 with %d stuck clients ÷ median p99 with all reading: %.2f×", stuck, ratio)
	}
	if out := os.Getenv("PAINEL_BENCH_FANOUT_OUT"); out != "" {
		var b strings.Builder
		header := func() {
			fmt.Fprintf(&b, "| run | clients reading | stuck | deliveries | latency p50 | p99 | max | last reader had the sample (median / max over samples) | deliveries/s (run / within a broadcast) | readers that skipped (skips) | CPU per broadcast | CPU per delivery | stuck clients dropped after |\n")
			fmt.Fprintf(&b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | ---: | ---: | --- |\n")
		}
		fmt.Fprintf(&b, "### Medians of %d rounds\n\n", rounds)
		header()
		for _, m := range medians {
			b.WriteString(m.row())
		}
		if ratio > 0 {
			fmt.Fprintf(&b, "\nMedian p99 with %d stuck clients ÷ median p99 with all reading: **%.2f×**.\n", stuck, ratio)
		}
		fmt.Fprintf(&b, "\n### Every run, in the order run\n\n")
		header()
		for _, r := range runs {
			b.WriteString(r.row())
		}
		fmt.Fprintf(&b, "\n%d clients; %d metrics per sample (%d bytes of JSON); %d samples %v apart per run.\n",
			clients, len(seq[0]), sampleJSONSize(seq[0]), samples, every)
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// medianResult is the median of every timing over the rounds of one variant; the counts of
// deliveries, skips and drops are summed.
func medianResult(rs []fanoutResult) fanoutResult {
	med := func(get func(fanoutResult) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	dur := func(get func(fanoutResult) time.Duration) time.Duration {
		return time.Duration(med(func(r fanoutResult) float64 { return float64(get(r)) }))
	}
	m := rs[0]
	m.name = fmt.Sprintf("**median of %d: %s**", len(rs), rs[0].name)
	m.round = 0
	m.deliveries, m.skippers, m.skips, m.dropped, m.stuckStillRegistered = 0, 0, 0, 0, 0
	for _, r := range rs {
		m.deliveries += r.deliveries
		m.skippers += r.skippers
		m.skips += r.skips
		m.dropped += r.dropped
		m.stuckStillRegistered += r.stuckStillRegistered
	}
	m.p50 = dur(func(r fanoutResult) time.Duration { return r.p50 })
	m.p99 = dur(func(r fanoutResult) time.Duration { return r.p99 })
	m.max = dur(func(r fanoutResult) time.Duration { return r.max })
	m.lastMed = dur(func(r fanoutResult) time.Duration { return r.lastMed })
	m.lastMax = dur(func(r fanoutResult) time.Duration { return r.lastMax })
	m.perSecond = med(func(r fanoutResult) float64 { return r.perSecond })
	m.burstPerSecond = med(func(r fanoutResult) float64 { return r.burstPerSecond })
	m.cpuPerBroadcast = dur(func(r fanoutResult) time.Duration { return r.cpuPerBroadcast })
	m.cpuPerDelivery = dur(func(r fanoutResult) time.Duration { return r.cpuPerDelivery })
	m.callMax = dur(func(r fanoutResult) time.Duration { return r.callMax })
	m.dropFirst = dur(func(r fanoutResult) time.Duration { return r.dropFirst })
	m.dropLast = dur(func(r fanoutResult) time.Duration { return r.dropLast })
	m.window = dur(func(r fanoutResult) time.Duration { return r.window })
	m.rounds = len(rs)
	return m
}

type fanoutResult struct {
	name                 string
	round                int // 1…; 0 for a median row
	rounds               int // runs summarised by this row (deliveries, skips and drops are summed)
	readers, stuck       int
	deliveries           int
	p50, p99, max        time.Duration
	lastMed, lastMax     time.Duration // per sample: until the last reading client had it
	perSecond            float64       // deliveries over the whole run (the offered rate, if nothing lags)
	burstPerSecond       float64       // readers ÷ median time until the last reader had a sample
	skippers, skips      int
	cpuPerBroadcast      time.Duration
	cpuPerDelivery       time.Duration
	callMax              time.Duration // longest broadcastSample call
	dropped              int64
	dropFirst, dropLast  time.Duration // since the first broadcast
	window               time.Duration
	remainingHubClients  int
	stuckStillRegistered int
}

func (r fanoutResult) String() string {
	s := fmt.Sprintf("%s: %d readers (+%d stuck): %d deliveries in %v (%.0f/s; within a broadcast %.0f/s); latency p50 %v p99 %v max %v; last client had each sample after median %v, max %v; "+
		"%d clients skipped %d samples; CPU %v per broadcast, %v per delivery; longest broadcastSample call %v; hub dropped %d",
		r.name, r.readers, r.stuck, r.deliveries, r.window.Round(time.Millisecond), r.perSecond, r.burstPerSecond, rd(r.p50), rd(r.p99), rd(r.max), rd(r.lastMed), rd(r.lastMax),
		r.skippers, r.skips, rd(r.cpuPerBroadcast), r.cpuPerDelivery, rd(r.callMax), r.dropped)
	if r.stuck > 0 {
		s += fmt.Sprintf(" (stuck clients gone after %v … %v; %d still registered at the end)", rd(r.dropFirst), rd(r.dropLast), r.stuckStillRegistered)
	}
	return s
}

func (r fanoutResult) row() string {
	drop := "–"
	if r.stuck > 0 {
		drop = fmt.Sprintf("%d of %d dropped, after %v … %v", int(r.dropped), r.stuck*max(1, r.rounds), rd(r.dropFirst), rd(r.dropLast))
		if r.stuckStillRegistered > 0 {
			drop += fmt.Sprintf(" (%d still registered at the end)", r.stuckStillRegistered)
		}
	}
	name := r.name
	if r.round > 0 {
		name = fmt.Sprintf("%d: %s", r.round, r.name)
	}
	return fmt.Sprintf("| %s | %d | %d | %d | %v | %v | %v | %v / %v | %.0f / %.0f | %d (%d) | %v | %v | %s |\n",
		name, r.readers, r.stuck, r.deliveries, rd(r.p50), rd(r.p99), rd(r.max), rd(r.lastMed), rd(r.lastMax),
		r.perSecond, r.burstPerSecond, r.skippers, r.skips, rd(r.cpuPerBroadcast), r.cpuPerDelivery.Round(100*time.Nanosecond), drop)
}

// rd rounds for display: to 10 µs below 10 ms, else to 0.1 ms.
func rd(d time.Duration) time.Duration {
	if d < 10*time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}

type delivery struct {
	idx int
	lat time.Duration
}

type fanoutClient struct {
	conn  *websocket.Conn
	stuck bool
	got   []delivery
	err   error
}

func runFanout(t *testing.T, nclients, nstuck int, seq []map[string]float64, every time.Duration) fanoutResult {
	f := newFixture(t, nil, Config{})
	samples := len(seq)
	sent := make([]atomic.Pointer[time.Time], samples)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute+time.Duration(samples)*every)
	defer cancel()

	// The fixture's handler behind a listener whose sockets have a fixed 16 KiB send buffer
	// (the kernel doubles it), and the stuck clients get a 4 KiB receive buffer: on loopback,
	// send-buffer autotuning would otherwise let ~3 MB (half an hour of samples at 1 Hz) pile up
	// before a write to a stuck client blocks, and the stuck clients would never be stuck within
	// the run. Readers are unaffected: they take every 2 KB message as it comes.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(f.ts.Config.Handler)
	ts.Listener.Close()
	ts.Listener = sndbufListener{ln, 16 << 10}
	ts.Start()
	defer ts.Close()

	// Connect (32 at a time).
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/monitoramento/ws"
	stuckHTTP := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}).DialContext}}
	cls := make([]*fanoutClient, nclients)
	// Spread the stuck clients among the others.
	for i := range cls {
		cls[i] = &fanoutClient{stuck: nstuck > 0 && i%(nclients/nstuck) == 0 && i/(nclients/nstuck) < nstuck}
	}
	dialStart := time.Now()
	var dialWG sync.WaitGroup
	sem := make(chan struct{}, 32)
	var dialErr atomic.Pointer[error]
	for _, c := range cls {
		dialWG.Add(1)
		sem <- struct{}{}
		go func() {
			defer dialWG.Done()
			defer func() { <-sem }()
			var opts *websocket.DialOptions
			if c.stuck {
				opts = &websocket.DialOptions{HTTPClient: stuckHTTP}
			}
			conn, _, err := websocket.Dial(ctx, url, opts)
			if err != nil {
				dialErr.CompareAndSwap(nil, &err)
				return
			}
			conn.SetReadLimit(1 << 20)
			c.conn = conn
		}()
	}
	dialWG.Wait()
	defer func() {
		for _, c := range cls {
			if c.conn != nil {
				c.conn.CloseNow()
			}
		}
	}()
	if p := dialErr.Load(); p != nil {
		t.Fatalf("dialing: %v", *p)
	}

	// Readers: the snapshot first, then samples until the last one (or an error).
	var ready, done sync.WaitGroup
	for _, c := range cls {
		if c.stuck {
			continue
		}
		c.got = make([]delivery, 0, samples)
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			_, msg, err := c.conn.Read(ctx)
			if err == nil && !bytes.HasPrefix(msg, []byte(`{"tipo":"snapshot"`)) {
				err = fmt.Errorf("first message is not the snapshot: %.80s", msg)
			}
			ready.Done()
			if err != nil {
				c.err = err
				return
			}
			for {
				_, msg, err := c.conn.Read(ctx)
				recv := time.Now()
				if err != nil {
					c.err = err
					return
				}
				if !bytes.HasPrefix(msg, []byte(`{"tipo":"amostra"`)) {
					continue
				}
				ms, err := sampleMillis(msg)
				if err != nil {
					c.err = err
					return
				}
				idx := -1
				for i := range sent {
					if p := sent[i].Load(); p != nil && p.UnixMilli() == ms {
						idx = i
						break
					}
				}
				if idx < 0 {
					c.err = fmt.Errorf("sample with t=%d ms was never sent", ms)
					return
				}
				c.got = append(c.got, delivery{idx, recv.Sub(*sent[idx].Load())})
				if idx == samples-1 {
					return
				}
			}
		}()
	}
	ready.Wait()
	want := nclients
	if f.s.hub.count() != want {
		// Registration happens before the snapshot is written, so this holds once every
		// snapshot has been read.
		t.Fatalf("hub has %d clients, want %d", f.s.hub.count(), want)
	}
	t.Logf("%d clients connected in %v", nclients, time.Since(dialStart).Round(time.Millisecond))

	// Watch the stuck clients leave.
	first := time.Now()
	var dropFirst, dropLast atomic.Int64
	watchStop := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-watchStop:
				return
			case <-tick.C:
			}
			n := f.s.hub.count()
			if n < nclients {
				dropFirst.CompareAndSwap(0, int64(time.Since(first)))
			}
			if n <= nclients-nstuck && nstuck > 0 {
				dropLast.CompareAndSwap(0, int64(time.Since(first)))
			}
		}
	}()

	cpu0 := processCPU(t)
	var callMax time.Duration
	for i := range samples {
		if wait := time.Until(first.Add(time.Duration(i) * every)); wait > 0 {
			time.Sleep(wait)
		}
		now := time.Now()
		sent[i].Store(&now)
		f.s.hub.broadcastSample(now, seq[i])
		callMax = max(callMax, time.Since(now))
	}
	waited := make(chan struct{})
	go func() { done.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		t.Fatalf("readers still waiting for the last sample 30 s after it was sent")
	}
	cpu := processCPU(t) - cpu0
	close(watchStop)
	<-watchDone

	// Correctness: in order, no duplicates, the last sample always arrives, nobody dropped.
	r := fanoutResult{name: "all-read", stuck: nstuck, readers: nclients - nstuck, callMax: callMax, dropped: f.s.hub.dropped.Load()}
	if nstuck > 0 {
		r.name = fmt.Sprintf("%d stuck", nstuck)
	}
	var lats []time.Duration
	lastPer := make([]time.Duration, samples)
	lastRecv := first
	for ci, c := range cls {
		if c.stuck {
			continue
		}
		if c.err != nil {
			t.Errorf("client %d: %v (after %d samples)", ci, c.err, len(c.got))
			continue
		}
		prev := -1
		for _, d := range c.got {
			if d.idx <= prev {
				t.Errorf("client %d: sample %d after sample %d", ci, d.idx, prev)
			}
			prev = d.idx
			lats = append(lats, d.lat)
			lastPer[d.idx] = max(lastPer[d.idx], d.lat)
			if at := sent[d.idx].Load().Add(d.lat); at.After(lastRecv) {
				lastRecv = at
			}
		}
		if prev != samples-1 {
			t.Errorf("client %d: last sample %d, want %d", ci, prev, samples-1)
		}
		if skipped := samples - len(c.got); skipped > 0 {
			r.skippers++
			r.skips += skipped
		}
	}
	if len(lats) == 0 {
		t.Fatal("no deliveries")
	}
	slices.Sort(lats)
	r.deliveries = len(lats)
	r.p50, r.p99, r.max = quantile(lats, 0.50), quantile(lats, 0.99), lats[len(lats)-1]
	slices.Sort(lastPer)
	r.lastMed, r.lastMax = quantile(lastPer, 0.5), lastPer[len(lastPer)-1]
	r.window = lastRecv.Sub(first)
	r.perSecond = float64(r.deliveries) / r.window.Seconds()
	if r.lastMed > 0 {
		r.burstPerSecond = float64(r.readers) / r.lastMed.Seconds()
	}
	r.cpuPerBroadcast = cpu / time.Duration(samples)
	r.cpuPerDelivery = cpu / time.Duration(r.deliveries)
	r.dropFirst, r.dropLast = time.Duration(dropFirst.Load()), time.Duration(dropLast.Load())
	r.remainingHubClients = f.s.hub.count()
	r.stuckStillRegistered = max(0, r.remainingHubClients-r.readers)
	return r
}

// sndbufListener sets SO_SNDBUF on every accepted connection.
type sndbufListener struct {
	net.Listener
	bytes int
}

func (l sndbufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		if err := tc.SetWriteBuffer(l.bytes); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, err
}

// quantile of sorted durations (nearest rank).
func quantile(s []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// sampleMillis reads the "t" field (Unix seconds with milliseconds) of an "amostra" message
// without decoding the rest.
func sampleMillis(msg []byte) (int64, error) {
	i := bytes.Index(msg, []byte(`,"t":`))
	if i < 0 {
		return 0, fmt.Errorf("no t in %.80s", msg)
	}
	rest := msg[i+5:]
	j := bytes.IndexAny(rest, ",}")
	if j < 0 {
		return 0, fmt.Errorf("bad t in %.80s", msg)
	}
	v, err := strconv.ParseFloat(string(rest[:j]), 64)
	if err != nil {
		return 0, err
	}
	return int64(math.Round(v * 1000)), nil
}

// sampleSeries returns n realistic samples of a small server: 2 cores, 2 mounts, 2 block
// devices, 3 interfaces, a cgroup limit; 60 metrics that drift from sample to sample.
func sampleSeries(n int) []map[string]float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	base := map[string]float64{
		"cpu.total": 23.4, "cpu.core.0": 25.1, "cpu.core.1": 21.7,
		"load.1": 0.82, "load.5": 0.64, "load.15": 0.51,
		"mem.total": 4_100_000_000, "mem.used": 1_650_000_000, "mem.available": 2_450_000_000, "mem.used_pct": 40.2,
		"swap.total": 1_073_737_728, "swap.used": 12_582_912, "swap.used_pct": 1.2,
		"proc.count":   143,
		"self.cpu_pct": 0.21, "self.rss": 31_000_000, "self.goroutines": 24, "self.open_files": 19,
		"cgroup.cpu.limit_cores": 2, "cgroup.cpu.used_pct": 11.7,
	}
	for _, m := range []string{"/", "/var/lib/data"} {
		base["disk."+m+".total"] = 52_000_000_000
		base["disk."+m+".used"] = 21_000_000_000
		base["disk."+m+".free"] = 31_000_000_000
		base["disk."+m+".used_pct"] = 40.4
	}
	for _, d := range []string{"vda", "vdb"} {
		base["io."+d+".read_bps"] = 40_960
		base["io."+d+".write_bps"] = 262_144
		base["io."+d+".read_ops"] = 3
		base["io."+d+".write_ops"] = 21
	}
	for _, nic := range []string{"eth0", "eth1", "docker0"} {
		for _, k := range []string{"rx_bps", "tx_bps", "rx_pps", "tx_pps", "rx_errors", "tx_errors", "rx_drops", "tx_drops"} {
			base["net."+nic+"."+k] = 0
		}
		base["net."+nic+".rx_bps"], base["net."+nic+".tx_bps"] = 125_000, 48_000
		base["net."+nic+".rx_pps"], base["net."+nic+".tx_pps"] = 160, 95
	}
	out := make([]map[string]float64, n)
	for i := range out {
		m := make(map[string]float64, len(base))
		for k, v := range base {
			switch {
			case strings.HasSuffix(k, "_pct") || strings.HasPrefix(k, "cpu.") || strings.HasPrefix(k, "load."):
				m[k] = math.Round(max(0, v*(0.8+0.4*rng.Float64()))*100) / 100
			case strings.HasSuffix(k, "_bps") || strings.HasSuffix(k, "_pps") || strings.HasSuffix(k, "_ops"):
				m[k] = math.Round(v * (0.5 + rng.Float64()))
			case k == "mem.used" || k == "self.rss" || strings.HasSuffix(k, ".used"):
				m[k] = v + float64(rng.IntN(1<<20))*4096
			default:
				m[k] = v
			}
		}
		out[i] = m
	}
	return out
}

func sampleJSONSize(values map[string]float64) int {
	h := newHub()
	c := &wsClient{sample: make(chan []byte, 1), events: make(chan []byte, 1), kill: make(chan struct{})}
	h.add(c)
	h.broadcastSample(time.Now(), values)
	return len(<-c.sample)
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: want an integer", name, v)
	}
	return n
}

// processCPU is user+system time of this process so far (getrusage).
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStep is one full Service.Step with the real host collector: collect, alert
// evaluation (the three default rules), the live stream (no client connected) and history,
// with a simulated 1 s clock so that history flushes to SQLite (every minute), block closing
// and expiry (every hour) are amortised as in production. cpu-ns/op is the process CPU time
// (getrusage) per step, which is what `painel serve` spends per sample on monitoring.
func BenchmarkStep(b *testing.B) {
	c, err := collect.New(collect.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	st := openStore(b, "")
	clk := &fakeClock{t: time.Now()}
	s, err := New(context.Background(), st, Config{Source: c, Now: clk.now}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	clk.add(time.Second)
	s.Step(ctx) // the first sample has no rates; let the second be the first measured
	b.ReportAllocs()
	cpu0 := processCPU(b)
	for b.Loop() {
		clk.add(time.Second)
		s.Step(ctx)
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
	_, values := s.Latest()
	b.ReportMetric(float64(len(values)), "metrics")
}
