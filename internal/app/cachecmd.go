package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/painel-universal/painel/internal/cache"
	"github.com/painel-universal/painel/internal/cache/sim"
)

const cacheUsage = `Usage:
  painel cache simulate -trace FILE [-format auto|keys|arc] [-policy lru|lfu|fifo|arc|adaptativo|all]
                        -capacity N[,N...] [-json]

Replays a trace through cache policies and prints their hit ratios.
Formats: keys = one unsigned integer key per line; arc = ARC lines "start count x y",
each expanding to keys start..start+count-1; gzip or plain, detected by content.
Capacity counts entries.
`

func runCache(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(e.stdout, cacheUsage)
		return exitOK
	}
	if args[0] != "simulate" {
		fmt.Fprintf(e.stderr, "painel cache: unknown action %q\n\n%s", args[0], cacheUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("painel cache simulate", flag.ContinueOnError)
	trace := fs.String("trace", "", "trace file")
	format := fs.String("format", "auto", "auto, keys or arc")
	pol := fs.String("policy", "all", "lru, lfu, fifo, arc, adaptativo or all (comma-separated list too)")
	capacity := fs.String("capacity", "", "entries, comma-separated")
	asJSON := fs.Bool("json", false, "print JSON")
	for _, a := range args[1:] {
		if isHelp(a) {
			fmt.Fprint(e.stdout, cacheUsage)
			return exitOK
		}
	}
	if !parseFlags(e, fs, "cache simulate", args[1:]) {
		return exitUsage
	}
	if *trace == "" || *capacity == "" || fs.NArg() > 0 {
		fmt.Fprint(e.stderr, "painel cache simulate: -trace and -capacity are required\n\n"+cacheUsage)
		return exitUsage
	}
	var caps []int
	for _, s := range strings.Split(*capacity, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(e.stderr, "painel cache simulate: -capacity %q: use positive whole numbers\n", s)
			return exitUsage
		}
		caps = append(caps, n)
	}
	policies := cache.SimPolicies()
	if *pol != "all" {
		policies = nil
		for _, p := range strings.Split(*pol, ",") {
			p = strings.TrimSpace(p)
			if _, err := cache.NewSimulator(p, 1); err != nil {
				fmt.Fprintf(e.stderr, "painel cache simulate: -policy %q: use lru, lfu, fifo, arc, adaptativo or all\n", p)
				return exitUsage
			}
			policies = append(policies, p)
		}
	}
	if *format != "auto" && *format != "keys" && *format != "arc" {
		fmt.Fprintf(e.stderr, "painel cache simulate: -format %q: use auto, keys or arc\n", *format)
		return exitUsage
	}
	t, err := sim.ReadTraceFile(*trace, *format)
	if err != nil {
		fmt.Fprintf(e.stderr, "painel cache simulate: %v\n", err)
		return exitError
	}
	type row struct {
		Policy   string  `json:"policy"`
		Capacity int     `json:"capacity"`
		HitRatio float64 `json:"hit_ratio"`
		Requests int     `json:"requests"`
	}
	var rows []row
	for _, p := range policies {
		for _, c := range caps {
			if ctx.Err() != nil {
				return exitError
			}
			s, _ := cache.NewSimulator(p, c)
			r := sim.Run(t, s)
			rows = append(rows, row{Policy: p, Capacity: c, HitRatio: r.HitRatio, Requests: r.Requests})
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rows)
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tcapacity\thit ratio\trequests\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%d\t\n", r.Policy, r.Capacity, r.HitRatio, r.Requests)
	}
	tw.Flush()
	return exitOK
}
