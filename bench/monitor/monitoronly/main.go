// Command monitoronly serves the monitor module alone, for bench/monitor/cpu.sh:
// the same store, HTTP stack, monitor service and routes as `painel serve`,
// without the other modules (QR codes, cache). It answers "what does
// monitoring cost in a process of its own", apart from the background work of
// the other modules that `painel serve` also carries.
//
//	go build -o /tmp/monitoronly ./bench/monitor/monitoronly
//	/tmp/monitoronly -addr 127.0.0.1:18000 -data-dir /tmp/x [-interval 1s]
//
// It stops on SIGINT/SIGTERM, flushing the history like the service.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/monitor"
	"github.com/painel-universal/painel/internal/store"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	dataDir := flag.String("data-dir", "", "data folder (SQLite)")
	interval := flag.Duration("interval", time.Second, "sampling interval")
	flag.Parse()
	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "monitoronly: -data-dir is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *dataDir, *interval); err != nil {
		fmt.Fprintln(os.Stderr, "monitoronly:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, dataDir string, interval time.Duration) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return err
	}
	st, err := store.Open(ctx, "", dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	srv := httpapi.New(httpapi.Options{Logger: log, Ready: st.Ready})
	mon, err := monitor.New(ctx, st, monitor.Config{Interval: interval}, log)
	if err != nil {
		return err
	}
	monitor.Register(srv.API, srv.Mux, mon, log)
	srv.Metrics.MustRegister(mon.Collector())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	bg, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = st.Maintain(bg); done <- struct{}{} }()
	go func() { _ = mon.Run(bg); done <- struct{}{} }()
	hs := srv.HTTPServer(10*time.Second, time.Minute, time.Minute, 2*time.Minute)
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	log.Info("monitoronly listening", "addr", ln.Addr().String())
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer scancel()
	_ = hs.Shutdown(sctx)
	cancel()
	<-done
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
