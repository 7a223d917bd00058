// Command meter measures the CPU time and memory of another process, for
// bench/monitor/cpu.sh, and summarises `go test -bench` output.
//
//	meter proc -pid PID [-warmup 5s] [-duration 60s] [-scrape URL]
//	meter tick [-every 10ms] [-for 10m]
//	meter benchmedian < bench.txt
//
// proc waits -warmup, then for -duration reads, once a second, every thread's
// /proc/PID/task/TID/schedstat (field 1: nanoseconds on CPU; field 3: times
// scheduled in, i.e. wake-ups plus preemptions) and VmRSS from
// /proc/PID/status. /proc/PID/schedstat alone is the main thread only, which
// undercounts any multi-threaded process (a Go program runs on several
// threads), so the threads are summed; a thread that exits during the window
// counts up to its last one-second reading. utime+stime from /proc/PID/stat
// (whole process, 10 ms ticks) is reported beside it as a cross-check. With
// -scrape, URL is fetched once a second from the start (warm-up included),
// with keep-alive and gzip like a Prometheus scrape; the scraper runs in this
// process, so its CPU is not counted. The result is one line of JSON.
//
// tick does nothing but run a time.Ticker (then exits after -for): the floor
// cost, on this machine, of a Go process woken up that often. cpu.sh measures
// it with proc, beside painel, as a reference for idle wake-ups.
//
// benchmedian reads `go test -bench` output and prints, per benchmark and
// unit, the median over the -count runs as a Markdown table.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: meter proc -pid PID [-warmup 5s] [-duration 60s] [-scrape URL] | meter tick [-every 10ms] [-for 10m] | meter benchmedian < bench.txt")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "proc":
		err = proc(os.Args[2:])
	case "tick":
		err = tick(os.Args[2:])
	case "benchmedian":
		err = benchMedian(os.Stdin, os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "meter:", err)
		os.Exit(1)
	}
}

// Result is what proc prints.
type Result struct {
	PID           int     `json:"pid"`
	Start         float64 `json:"start_unix"` // window start, Unix seconds
	End           float64 `json:"end_unix"`
	WallNs        int64   `json:"wall_ns"`
	CPUNs         int64   `json:"cpu_ns"`          // Σ threads' schedstat field 1 over the window
	TicksNs       int64   `json:"cpu_ticks_ns"`    // utime+stime from /proc/PID/stat, 10 ms resolution
	CPUPct        float64 `json:"cpu_pct"`         // CPUNs / WallNs × 100: % of one core
	CPUMsPerSec   float64 `json:"cpu_ms_per_s"`    // CPUNs / WallNs × 1000
	RunsPerSec    float64 `json:"scheduled_per_s"` // Σ threads' schedstat field 3 per second: wake-ups (+ preemptions)
	ThreadsStart  int     `json:"threads_start"`   // threads at the window start
	ThreadsEnd    int     `json:"threads_end"`     // and at its end
	ThreadsGone   int     `json:"threads_exited"`  // threads seen that exited before the end
	RSSAvgKiB     float64 `json:"rss_avg_kib"`
	RSSMaxKiB     int64   `json:"rss_max_kib"`
	RSSSamples    int     `json:"rss_samples"`
	HWMKiB        int64   `json:"vmhwm_kib"` // peak RSS since the process started
	ScrapesOK     int64   `json:"scrapes_ok,omitempty"`
	ScrapesFailed int64   `json:"scrapes_failed,omitempty"`
	ScrapeBytes   int64   `json:"scrape_bytes_avg,omitempty"` // decoded body size
	ScrapeMs      float64 `json:"scrape_ms_avg,omitempty"`    // request duration, averaged
}

func proc(args []string) error {
	fs := flag.NewFlagSet("proc", flag.ContinueOnError)
	pid := fs.Int("pid", 0, "process to measure")
	warmup := fs.Duration("warmup", 5*time.Second, "wait this long before measuring")
	duration := fs.Duration("duration", 60*time.Second, "measuring window")
	scrape := fs.String("scrape", "", "URL to GET once a second (a Prometheus-like scraper)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pid <= 0 {
		return errors.New("-pid is required")
	}
	res := Result{PID: *pid}

	var ok, failed, bytes, nanos atomic.Int64
	stop := make(chan struct{})
	scraped := make(chan struct{})
	if *scrape != "" {
		go func() {
			defer close(scraped)
			client := &http.Client{Timeout: 5 * time.Second}
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				t0 := time.Now()
				req, _ := http.NewRequest("GET", *scrape, nil)
				req.Header.Set("Accept", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
				if res, err := client.Do(req); err != nil {
					failed.Add(1)
				} else {
					n, _ := io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode == 200 {
						ok.Add(1)
						bytes.Add(n)
						nanos.Add(int64(time.Since(t0)))
					} else {
						failed.Add(1)
					}
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
	} else {
		close(scraped)
	}

	time.Sleep(*warmup)
	okBefore, failedBefore := ok.Load(), failed.Load()
	bytesBefore, nanosBefore := bytes.Load(), nanos.Load()

	first, err := threads(*pid)
	if err != nil {
		return err
	}
	ticks0, err := ticks(*pid)
	if err != nil {
		return err
	}
	t0 := time.Now()
	last := map[int]threadStat{}
	for tid, ts := range first {
		last[tid] = ts
	}
	res.ThreadsStart = len(first)
	var rssSum int64
	end := t0.Add(*duration)
	tick := time.NewTicker(time.Second)
	var now map[int]threadStat
	for {
		<-tick.C
		if now, err = threads(*pid); err != nil {
			return fmt.Errorf("process %d ended during the window: %w", *pid, err)
		}
		for tid, ts := range now {
			last[tid] = ts
		}
		rss, _, err := status(*pid)
		if err != nil {
			return err
		}
		rssSum += rss
		res.RSSMaxKiB = max(res.RSSMaxKiB, rss)
		res.RSSSamples++
		if !time.Now().Before(end) {
			break
		}
	}
	tick.Stop()
	t1 := time.Now()
	ticks1, err := ticks(*pid)
	if err != nil {
		return err
	}
	_, hwm, err := status(*pid)
	if err != nil {
		return err
	}
	close(stop)
	<-scraped

	var runs int64
	for tid, ts := range last {
		res.CPUNs += ts.ns - first[tid].ns // a thread born in the window started at 0
		runs += ts.runs - first[tid].runs
		if _, alive := now[tid]; !alive {
			res.ThreadsGone++
		}
	}
	res.ThreadsEnd = len(now)
	res.Start = float64(t0.UnixNano()) / 1e9
	res.End = float64(t1.UnixNano()) / 1e9
	res.WallNs = int64(t1.Sub(t0))
	res.TicksNs = ticks1 - ticks0
	res.CPUPct = float64(res.CPUNs) / float64(res.WallNs) * 100
	res.CPUMsPerSec = float64(res.CPUNs) / float64(res.WallNs) * 1000
	res.RunsPerSec = float64(runs) / t1.Sub(t0).Seconds()
	res.RSSAvgKiB = float64(rssSum) / float64(res.RSSSamples)
	res.HWMKiB = hwm
	if *scrape != "" {
		res.ScrapesOK = ok.Load() - okBefore
		res.ScrapesFailed = failed.Load() - failedBefore
		if res.ScrapesOK > 0 {
			res.ScrapeBytes = (bytes.Load() - bytesBefore) / res.ScrapesOK
			res.ScrapeMs = float64(nanos.Load()-nanosBefore) / float64(res.ScrapesOK) / 1e6
		}
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func tick(args []string) error {
	fs := flag.NewFlagSet("tick", flag.ContinueOnError)
	every := fs.Duration("every", 10*time.Millisecond, "ticker period")
	life := fs.Duration("for", 10*time.Minute, "exit after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *every <= 0 {
		return errors.New("-every must be positive")
	}
	t := time.NewTicker(*every)
	defer t.Stop()
	end := time.After(*life)
	var n atomic.Int64
	for {
		select {
		case <-t.C:
			n.Add(1)
		case <-end:
			return nil
		}
	}
}

// threadStat is one thread's schedstat: ns on CPU (field 1) and times it was
// scheduled in (field 3: each wake-up from sleep counts once, and so does each
// preemption).
type threadStat struct{ ns, runs int64 }

// threads returns every thread's schedstat.
func threads(pid int) (map[int]threadStat, error) {
	dirs, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, err
	}
	out := make(map[int]threadStat, len(dirs))
	for _, d := range dirs {
		tid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", d.Name(), "schedstat"))
		if err != nil {
			continue // the thread just exited
		}
		f := strings.Fields(string(b))
		if len(f) < 3 {
			continue
		}
		ns, err1 := strconv.ParseInt(f[0], 10, 64)
		runs, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("schedstat of %d/%d: %q", pid, tid, b)
		}
		out[tid] = threadStat{ns, runs}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no thread of %d readable", pid)
	}
	return out, nil
}

// ticks returns utime+stime of the whole process in ns (USER_HZ = 100 on Linux).
func ticks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // comm may contain spaces
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (ut + st) * 10_000_000, nil
}

// status returns VmRSS and VmHWM in KiB.
func status(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %q", k, v)
		}
		if k == "VmRSS" {
			rss = n
		} else {
			hwm = n
		}
	}
	return rss, hwm, sc.Err()
}

// benchMedian prints the median of every unit of every benchmark in `go test
// -bench` output, in the order the benchmarks first appear.
func benchMedian(r io.Reader, w io.Writer) error {
	type key struct{ name, unit string }
	vals := map[key][]float64{}
	var names []string
	units := map[string][]string{}
	runs := map[string]int{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // not a result line
		}
		name := f[0]
		if runs[name] == 0 {
			names = append(names, name)
		}
		runs[name]++
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			k := key{name, f[i+1]}
			if len(vals[k]) == 0 && !slices.Contains(units[name], f[i+1]) {
				units[name] = append(units[name], f[i+1])
			}
			vals[k] = append(vals[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(names) == 0 {
		return errors.New("no benchmark results in the input")
	}
	fmt.Fprintln(w, "| benchmark | runs | median | min – max |")
	fmt.Fprintln(w, "| --- | ---: | --- | --- |")
	for _, name := range names {
		var med, rng []string
		for _, u := range units[name] {
			v := slices.Clone(vals[key{name, u}])
			slices.Sort(v)
			m := v[len(v)/2]
			if len(v)%2 == 0 {
				m = (v[len(v)/2-1] + v[len(v)/2]) / 2
			}
			med = append(med, num(m)+" "+u)
			rng = append(rng, num(v[0])+" – "+num(v[len(v)-1]))
		}
		fmt.Fprintf(w, "| `%s` | %d | %s | %s |\n", name, runs[name], strings.Join(med, ", "), strings.Join(rng, ", "))
	}
	return nil
}

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}
