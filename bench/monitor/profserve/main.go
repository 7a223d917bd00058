// Command profserve is `painel` with a CPU profile around it, for finding
// where `painel serve` spends its CPU when nothing calls it (bench/monitor).
// The service has no /debug/pprof route; this wrapper runs the same
// app.Run as cmd/painel and records a profile of one window:
//
//	go build -o /tmp/profserve ./bench/monitor/profserve
//	PAINEL_DATA_DIR=/tmp/x PAINEL_ADDR=127.0.0.1:18000 \
//	    /tmp/profserve -cpuprofile /tmp/serve.pprof -after 5s -for 60s serve
//	go tool pprof -top /tmp/profserve /tmp/serve.pprof
//
// The profiler samples at 100 Hz, so a 60 s window of a process using ~1.5%
// of a core holds ~90 samples: enough to rank the top few callers, not to
// read small differences.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/painel-universal/painel/internal/app"
)

func main() {
	fs := flag.NewFlagSet("profserve", flag.ExitOnError)
	out := fs.String("cpuprofile", "", "write the CPU profile here")
	after := fs.Duration("after", 5*time.Second, "start profiling after this long")
	window := fs.Duration("for", 60*time.Second, "profile this long")
	_ = fs.Parse(os.Args[1:])
	if *out == "" {
		fmt.Fprintln(os.Stderr, "profserve: -cpuprofile is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			return
		case <-time.After(*after):
		}
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profserve:", err)
			return
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "profserve:", err)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(*window):
		}
		pprof.StopCPUProfile()
		f.Close()
		fmt.Fprintln(os.Stderr, "profserve: wrote", *out)
	}()
	args := append([]string{"painel"}, fs.Args()...)
	code := app.Run(ctx, args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	<-done // the profile is complete (stopped at the signal if it came first)
	os.Exit(code)
}
