// Command qr measures Painel's QR encoder on the benchmark payloads: the
// version it picks, CPU time per code (encode + PNG at 8 px per module with
// a 4-module border) and PNG size. It prints one JSON object per payload;
// bench/qr/compare.py runs segno and libqrencode on the same payloads and
// writes the comparison table.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/painel-universal/painel/internal/qrcode/qr"
	"github.com/painel-universal/painel/internal/qrcode/render"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	level := flag.String("level", "M", "error correction level")
	iters := flag.Int("n", 2000, "codes per payload for the timing")
	flag.Parse()
	lv, err := qr.ParseLevel(*level)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	enc := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var p struct{ Name, Text string }
		if err := json.Unmarshal(in.Bytes(), &p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var buf bytes.Buffer
		var c *qr.Code
		run := func() {
			c, err = qr.Encode(p.Text, lv, qr.Options{UTF8: true})
			if err != nil {
				fmt.Fprintln(os.Stderr, p.Name, err)
				os.Exit(1)
			}
			buf.Reset()
			if err := render.PNG(&buf, render.Grid{Size: c.Size, Dark: c.Modules, Function: c.Function}, render.Options{Scale: 8, Border: 4}); err != nil {
				fmt.Fprintln(os.Stderr, p.Name, err)
				os.Exit(1)
			}
		}
		for i := 0; i < 50; i++ { // warm up
			run()
		}
		t0 := cpuTime()
		for i := 0; i < *iters; i++ {
			run()
		}
		per := (cpuTime() - t0) / time.Duration(*iters)
		_ = enc.Encode(map[string]any{"name": p.Name, "version": c.Version, "us_per_code": float64(per.Nanoseconds()) / 1000,
			"png_bytes": buf.Len(), "charset": c.Charset})
	}
}
