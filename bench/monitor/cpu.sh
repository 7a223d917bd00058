#!/usr/bin/env bash
# bench/monitor/cpu.sh: CPU time and RSS of `painel serve` (host monitoring at
# 1 Hz, nothing calling it) beside prometheus-node-exporter scraped every
# second and glances collecting every second, in one run; then the Go
# benchmarks of one sample, one full Step and rule evaluation. Writes
# bench/monitor/RESULTS.md.
#
#   bench/monitor/cpu.sh            # 60 s per tool (about 11 minutes in all)
#   bench/monitor/cpu.sh 10         # quick check: 10 s per tool
#   EXTRA=0 PROFILE=0 bench/monitor/cpu.sh   # only the three tools and the Go benchmarks
#
# Every process runs alone, one after the other, for WARMUP s (not measured)
# then DURATION s (measured). CPU is Σ over the process's threads of
# /proc/PID/task/TID/schedstat field 1 (ns on CPU), taken by bench/monitor/meter,
# whose own CPU (and the node_exporter scrapes it makes) is not counted. RSS is
# VmRSS read every second (avg, max).
#
# Loopback only. Bounded: every process is started by this script and
# stopped by it (TERM, then KILL after 5 s), also on Ctrl-C or failure; every
# external command runs under `timeout`.
#
# Needs: go, curl, python3 (Debian's /usr/bin/python3 is there with glances),
# and as root, if missing: apt-get install -y --no-install-recommends
# prometheus-node-exporter glances (the script does it).
#
# Environment: DURATION (or the first argument, seconds), WARMUP (5), EXTRA=1
# (diagnostic rows: painel with monitoring idle, the monitor module alone in
# its own process, a bare 10 ms Go ticker, glances with its stock configuration), PROFILE=1 (a CPU profile of painel
# serve through bench/monitor/profserve), PROFILE_SECONDS (30), BENCH_COUNT (5),
# BENCHTIME (1s), NE_PORT (9100, or a free port if taken), OUT, REV (build a
# committed revision, e.g. REV=HEAD, instead of the working tree).
set -euo pipefail

DURATION=${1:-${DURATION:-60}}
WARMUP=${WARMUP:-5}
EXTRA=${EXTRA:-1}
PROFILE=${PROFILE:-1}
PROFILE_SECONDS=${PROFILE_SECONDS:-30}
BENCH_COUNT=${BENCH_COUNT:-5}
BENCHTIME=${BENCHTIME:-1s}
case "$DURATION" in '' | *[!0-9]*) echo "cpu.sh: duration must be whole seconds, got '$DURATION'" >&2; exit 2 ;; esac
[ "$DURATION" -ge 5 ] || { echo "cpu.sh: duration must be at least 5 s" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here" && while [ ! -f go.mod ] && [ "$PWD" != / ]; do cd ..; done; pwd)
[ -f "$root/go.mod" ] || { echo "cpu.sh: go.mod not found above $here" >&2; exit 1; }
OUT=${OUT:-$here/RESULTS.md}

for tool in go curl; do
	command -v "$tool" >/dev/null || { echo "cpu.sh: $tool not found" >&2; exit 1; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# ---- peers: Debian packages ----
NE_BIN=/usr/bin/prometheus-node-exporter
if [ ! -x "$NE_BIN" ] || ! command -v glances >/dev/null; then
	[ "$(id -u)" = 0 ] || { echo "cpu.sh: install prometheus-node-exporter and glances (as root: apt-get install -y --no-install-recommends prometheus-node-exporter glances)" >&2; exit 1; }
	echo "installing prometheus-node-exporter and glances..." >&2
	timeout 600 apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y --no-install-recommends prometheus-node-exporter glances >&2
fi
GLANCES=$(command -v glances)

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			kill "$p" 2>/dev/null || true
			for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
			kill -9 "$p" 2>/dev/null || true
		fi
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_taken() { "$PY" -c 'import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"; }
# stop PID: TERM, then KILL after 5 s.
stop() {
	kill "$1" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
# wait_url URL PID: until URL answers 200 (30 s at most) while PID lives.
wait_url() {
	for _ in $(seq 150); do
		curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
declare -A LOAD
# measure NAME PID [URL to scrape]: writes $work/NAME.json.
measure() {
	local name=$1 pid=$2 scrape=${3:-}
	LOAD[$name]=$(loadavg)
	echo "measuring $name (pid $pid): ${WARMUP} s warm-up, ${DURATION} s window; load $(loadavg)..." >&2
	timeout $((WARMUP + DURATION + 30)) "$work/meter" proc -pid "$pid" -warmup "${WARMUP}s" -duration "${DURATION}s" ${scrape:+-scrape "$scrape"} >"$work/$name.json"
	cat "$work/$name.json" >&2
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.%3NZ; }

# REV: build and benchmark a committed revision instead of the working tree (useful while others
# have the tree mid-edit): `git archive REV` into the temporary folder, with this folder
# (bench/monitor) and internal/monitor/fanout_test.go laid over it when the revision lacks them.
src=$root
src_desc="the working tree"
if [ -n "${REV:-}" ]; then
	src="$work/src"
	mkdir -p "$src"
	git -C "$root" archive "$REV" | tar -x -C "$src"
	laid=""
	if [ ! -d "$src/bench/monitor" ]; then
		mkdir -p "$src/bench"
		cp -r "$here" "$src/bench/monitor"
		laid+=" bench/monitor"
	fi
	if [ ! -f "$src/internal/monitor/fanout_test.go" ] && [ -f "$root/internal/monitor/fanout_test.go" ]; then
		cp "$root/internal/monitor/fanout_test.go" "$src/internal/monitor/"
		laid+=" internal/monitor/fanout_test.go"
	fi
	src_desc="commit $(git -C "$root" rev-parse --short "$REV") (REV=$REV)"
	[ -z "$laid" ] || src_desc+=", with these from the working tree:$laid"
fi

echo "building painel and the meter from $src_desc..." >&2
(cd "$src" && go build -o /tmp/painel-bench ./cmd/painel && go build -o "$work/meter" ./bench/monitor/meter)
[ "$EXTRA" = 1 ] && (cd "$src" && go build -o "$work/monitoronly" ./bench/monitor/monitoronly)
[ "$PROFILE" = 1 ] && (cd "$src" && go build -o "$work/profserve" ./bench/monitor/profserve)

others=$(pgrep -a -x 'prometheus-node|prometheus-node-exporter|glances' 2>/dev/null || true)

# painel_run NAME INTERVAL: painel serve with a fresh data folder; also counts the samples taken
# in the window (from the raw history, asked after the window).
painel_run() {
	local name=$1 interval=$2 port data pid
	port=$(free_port)
	data="$work/data-$name"
	PAINEL_DATA_DIR="$data" PAINEL_ADDR="127.0.0.1:$port" PAINEL_MONITOR_INTERVAL="$interval" \
		PAINEL_ADMIN_EMAIL=bench@painel.local PAINEL_ADMIN_PASSWORD=bench-senha-longa \
		/tmp/painel-bench serve >"$work/$name.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	if ! wait_url "http://127.0.0.1:$port/readyz" "$pid"; then
		echo "cpu.sh: painel did not become ready; its log:" >&2
		cat "$work/$name.log" >&2
		exit 1
	fi
	measure "$name" "$pid"
	local from to
	from=$(iso "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["start_unix"])' "$work/$name.json")")
	to=$(iso "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["end_unix"])' "$work/$name.json")")
	local tok
	tok=$(curl -fsS --max-time 10 -H 'Content-Type: application/json' -d '{"email":"bench@painel.local","senha":"bench-senha-longa"}' \
		"http://127.0.0.1:$port/auth/login" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') || tok=""
	curl -fsS --max-time 10 -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/monitoramento/historico?metrica=mem.used_pct&de=$from&ate=$to&pontos=5000" \
		>"$work/$name.hist.json" || echo '{}' >"$work/$name.hist.json"
	curl -fsS --max-time 10 -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/monitoramento/metricas/nomes" >"$work/$name.names.json" || echo '{}' >"$work/$name.names.json"
	stop "$pid"
}

# glances_run NAME [config]: glances --stdout at -t 1; every refresh prints "now: …" and the
# memory used, so the collections in the window can be counted.
glances_run() {
	local name=$1 conf=${2:-} pid
	PYTHONUNBUFFERED=1 "$GLANCES" ${conf:+-C "$conf"} --stdout now,mem.used,processcount.total -t 1 \
		>"$work/$name.out" 2>"$work/$name.err" &
	pid=$!
	pids+=("$pid")
	sleep 1
	kill -0 "$pid" 2>/dev/null || { echo "cpu.sh: glances exited:" >&2; cat "$work/$name.err" >&2; exit 1; }
	measure "$name" "$pid"
	stop "$pid"
}

# ---- 1. painel serve, monitoring at 1 Hz ----
painel_run painel 1s

# ---- 2. node_exporter scraped every second ----
NE_PORT=${NE_PORT:-9100}
if port_taken "$NE_PORT"; then
	echo "cpu.sh: 127.0.0.1:$NE_PORT is taken; using a free port" >&2
	NE_PORT=$(free_port)
fi
"$NE_BIN" --web.listen-address="127.0.0.1:$NE_PORT" >"$work/node_exporter.log" 2>&1 &
ne_pid=$!
pids+=("$ne_pid")
wait_url "http://127.0.0.1:$NE_PORT/metrics" "$ne_pid" || { echo "cpu.sh: node_exporter did not answer:" >&2; cat "$work/node_exporter.log" >&2; exit 1; }
measure node_exporter "$ne_pid" "http://127.0.0.1:$NE_PORT/metrics"
ne_series=$(curl -fsS --max-time 10 "http://127.0.0.1:$NE_PORT/metrics" | grep -vc '^#' || true)
stop "$ne_pid"

# ---- 3. glances, collecting every second ----
# Debian's glances 3.3.1 with -t 1 collects only every 2 s: each plugin's timer is re-armed when
# its update ends, for -t seconds, and the main loop wakes -t seconds after the update started,
# so every other wake-up finds the timers unexpired and reuses the stats. This copy of the
# stock configuration gives the plugins that follow -t a 0.5 s timer (sensors 1.5 s, its usual
# double), so every 1 s wake-up collects; plugins with their own slower refresh keep it.
plugins=$("$GLANCES" --module-list 2>/dev/null | sed -n 's/^Plugins list: //p' | tr -d ',')
[ -n "$plugins" ] || { echo "cpu.sh: glances --module-list gave no plugins" >&2; exit 1; }
keep_own="system ports"
want=""
for p in $plugins; do
	case " $keep_own " in *" $p "*) ;; *) want+="$p " ;; esac
done
awk -v plugins="$want" '
BEGIN { n = split(plugins, p, " "); for (i = 1; i <= n; i++) want[p[i]] = 1 }
function close_section() {
	if (sec in want) { if (!hasref) print "refresh=" (sec == "sensors" ? "1.5" : "0.5"); done[sec] = 1 }
}
/^\[/ { close_section(); sec = substr($0, 2, index($0, "]") - 2); hasref = 0; print; next }
sec == "global" && /^refresh=/ { print "refresh=1"; next }
sec == "global" && /^check_update=/ { print "check_update=false"; next }
sec != "global" && /^refresh=/ { hasref = 1 }
{ print }
END { close_section(); for (k in want) if (!(k in done)) printf "\n[%s]\nrefresh=%s\n", k, (k == "sensors" ? "1.5" : "0.5") }
' /etc/glances/glances.conf >"$work/glances-1s.conf"
glances_run glances "$work/glances-1s.conf"

# ---- diagnostics ----
if [ "$EXTRA" = 1 ]; then
	# painel with the monitor idle (one sample at start, then one per hour): the rest of the service.
	painel_run painel_idle 1h
	# The monitor module alone in its own process (bench/monitor/monitoronly): same store, HTTP
	# stack, service and routes as painel serve, without the QR and cache modules.
	port=$(free_port)
	"$work/monitoronly" -addr "127.0.0.1:$port" -data-dir "$work/data-monitoronly" >"$work/monitor_only.log" 2>&1 &
	mo_pid=$!
	pids+=("$mo_pid")
	wait_url "http://127.0.0.1:$port/readyz" "$mo_pid" || { echo "cpu.sh: monitoronly did not become ready:" >&2; cat "$work/monitor_only.log" >&2; exit 1; }
	measure monitor_only "$mo_pid"
	stop "$mo_pid"
	# A Go process that only runs a 10 ms ticker, like the cache module's shared coarse clock.
	"$work/meter" tick -every 10ms -for $((WARMUP + DURATION + 60))s &
	tick_pid=$!
	pids+=("$tick_pid")
	measure ticker "$tick_pid"
	stop "$tick_pid"
	# glances -t 1 with Debian's configuration as shipped (collects every 2 s, see above).
	glances_run glances_stock
fi

# ---- CPU profile of painel serve ----
if [ "$PROFILE" = 1 ]; then
	port=$(free_port)
	echo "profiling painel serve for ${PROFILE_SECONDS} s (after ${WARMUP} s)..." >&2
	PAINEL_DATA_DIR="$work/data-prof" PAINEL_ADDR="127.0.0.1:$port" \
		"$work/profserve" -cpuprofile "$work/serve.pprof" -after "${WARMUP}s" -for "${PROFILE_SECONDS}s" serve >"$work/prof.log" 2>&1 &
	prof_pid=$!
	pids+=("$prof_pid")
	for _ in $(seq $((WARMUP + PROFILE_SECONDS + 30))); do
		grep -q 'profserve: wrote' "$work/prof.log" && break
		kill -0 "$prof_pid" 2>/dev/null || break
		sleep 1
	done
	stop "$prof_pid"
	(cd "$src" && timeout 120 go tool pprof -top -nodecount=25 "$work/profserve" "$work/serve.pprof" >"$work/pprof-top.txt" 2>&1) || true
	(cd "$src" && timeout 120 go tool pprof -top -cum -nodecount=25 "$work/profserve" "$work/serve.pprof" >"$work/pprof-cum.txt" 2>&1) || true
	(cd "$src" && timeout 120 go tool pprof -top -cum -nodecount=25 -focus 'painel-universal|otter|sqlite|database/sql|net/http' \
		"$work/profserve" "$work/serve.pprof" >"$work/pprof-focus.txt" 2>&1) || true
fi

# ---- Go benchmarks ----
load_bench=$(loadavg)
bench_re='BenchmarkCollect|BenchmarkEvaluate|BenchmarkStep'
echo "go test -run '^\$' -bench '$bench_re' -count $BENCH_COUNT -benchtime $BENCHTIME ./internal/monitor/... (load $load_bench)..." >&2
(cd "$src" && timeout 1200 go test -run '^$' -bench "$bench_re" -count "$BENCH_COUNT" -benchtime "$BENCHTIME" ./internal/monitor/... 2>&1) |
	tee "$work/bench.txt" >&2 || true
"$work/meter" benchmedian <"$work/bench.txt" >"$work/bench.md" 2>&1 || true
missing=""
for b in BenchmarkCollect BenchmarkEvaluate BenchmarkStep; do
	grep -q "^$b" "$work/bench.txt" || missing+="$b "
done

# ---- RESULTS.md ----
"$PY" - "$work" "$DURATION" "$WARMUP" "$EXTRA" "$OUT" <<'PY' >"$work/tables.md"
import json, os, sys, re
work, duration, warmup, extra, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]

def bench_median(name, unit):
    import statistics
    vals = []
    p = os.path.join(work, "bench.txt")
    if not os.path.exists(p):
        return None
    for line in open(p):
        f = line.split()
        if not f or not re.match(name + r"(-\d+)?$", f[0]):
            continue
        for i in range(2, len(f) - 1):
            if f[i + 1] == unit:
                vals.append(float(f[i]))
    return statistics.median(vals) if vals else None

def load(name):
    p = os.path.join(work, name + ".json")
    return json.load(open(p)) if os.path.exists(p) and os.path.getsize(p) else None

def glances_check(name, r):
    # refreshes whose "now:" falls in the window, and how many of them saw mem.used change
    import datetime
    stamps, mems = [], []
    cur = None
    for line in open(os.path.join(work, name + ".out"), errors="replace"):
        if line.startswith("now: "):
            ts = line[5:].strip().replace(" UTC", "")
            cur = datetime.datetime.strptime(ts[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
        elif line.startswith("mem.used: ") and cur is not None:
            stamps.append(cur)
            mems.append(line.split(":", 1)[1].strip())
    inwin = [i for i, t in enumerate(stamps) if r["start_unix"] - 1 <= t <= r["end_unix"]]
    changed = sum(1 for i in inwin if i > 0 and mems[i] != mems[i - 1])
    return len(inwin), changed

rows = [
    ("painel", "`painel serve` (monitor at 1 Hz: collect, 3 default rules, history, live stream; nothing calling it)"),
    ("node_exporter", "`prometheus-node-exporter` 1.5, scraped every second (gzip, keep-alive)"),
    ("glances", "`glances --stdout … -t 1`, plugins collecting every second (see caveats)"),
]
diag = [
    ("painel_idle", "`painel serve` with `PAINEL_MONITOR_INTERVAL=1h` (monitor idle; everything else as above)"),
    ("monitor_only", "the monitor module alone at 1 Hz (`bench/monitor/monitoronly`: store, HTTP stack, monitor service and routes; no QR or cache module)"),
    ("ticker", "a Go process that only runs a 10 ms `time.Ticker` (`meter tick`)"),
    ("glances_stock", "`glances --stdout … -t 1` with Debian's configuration as shipped (collects every 2 s)"),
]

def row(name, label, r):
    return "| %s | %.3f%% | %.2f | %.1f / %.1f | %.0f | %.2f |" % (
        label, r["cpu_pct"], r["cpu_ms_per_s"], r["rss_avg_kib"] / 1024, r["rss_max_kib"] / 1024, r["scheduled_per_s"],
        r["cpu_ticks_ns"] / r["wall_ns"] * 100)

res = {n: load(n) for n, _ in rows + diag}
print("| process | CPU, % of one core | CPU ms per second | RSS avg / max, MiB | thread wake-ups per second | cross-check: utime+stime, % |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for n, label in rows:
    if res[n]:
        print(row(n, label, res[n]))
if extra and any(res[n] for n, _ in diag):
    print("| *diagnostics* | | | | | |")
    for n, label in diag:
        if res[n]:
            print(row(n, label, res[n]))
print()
p, ne = res["painel"], res["node_exporter"]
if p and ne:
    ratio = p["cpu_ns"] / ne["cpu_ns"]
    ok_abs = p["cpu_pct"] <= 0.25
    ok_rel = ratio <= 0.2
    print("**painel / node_exporter CPU: %.2f×.** Goal: ≤ 0.25%% of one core (%s: %.3f%%) and ≤ 0.2× node_exporter (%s: %.2f×). **Goal %s.**" % (
        ratio, "met" if ok_abs else "missed", p["cpu_pct"], "met" if ok_rel else "missed", ratio,
        "met" if ok_abs and ok_rel else "not met"))
    print()
    mo = res.get("monitor_only")
    if mo:
        r2 = mo["cpu_ns"] / ne["cpu_ns"]
        print("The monitor module alone (*monitor_only* row): %.3f%% of one core, %.3f× node_exporter: goal %s." % (
            mo["cpu_pct"], r2, "met" if mo["cpu_pct"] <= 0.25 and r2 <= 0.2 else "not met"))
        print()
    idle = res.get("painel_idle")
    if idle:
        d = (p["cpu_ns"] - idle["cpu_ns"]) / p["wall_ns"] * 100
        print("painel at 1 Hz minus painel with the monitor idle: %+.3f%% of one core. Two %d s windows on a noisy machine: %s" % (
            d, duration, "the per-second monitoring work is below their noise; `BenchmarkStep` and the *monitor_only* row measure it." if d < 0.1
            else "read it together with `BenchmarkStep` and the *monitor_only* row."))
        print()
    step = bench_median("BenchmarkStep", "cpu-ns/op")
    if step:
        print("`BenchmarkStep` (median below) at 1 Hz: %.1f µs of CPU per second = %.3f%% of one core, %.3f× node_exporter's measured CPU." % (
            step / 1e3, step / 1e9 * 100, step / (ne["cpu_ns"] / ne["wall_ns"] * 1e9)))
        print()
    tick = res.get("ticker")
    if tick:
        print("The idle-wake-up floor on this machine: a Go process that only runs a 10 ms ticker uses %.3f%% of one core with %.0f thread wake-ups per second; `painel serve` wakes %.0f times per second%s." % (
            tick["cpu_pct"], tick["scheduled_per_s"], p["scheduled_per_s"],
            (", the monitor alone %.0f" % mo["scheduled_per_s"]) if mo else ""))
        print()

# checks
checks = []
if p:
    try:
        pts = len(json.load(open(os.path.join(work, "painel.hist.json"))).get("pontos", []))
    except Exception:
        pts = -1
    try:
        names = len(json.load(open(os.path.join(work, "painel.names.json")))["nomes"])
    except Exception:
        names = -1
    checks.append("painel took %d samples in its %.1f s window (raw history of `mem.used_pct`), %d metrics per sample; %d threads; VmHWM %.1f MiB." % (
        pts, p["wall_ns"] / 1e9, names, p["threads_end"], p["vmhwm_kib"] / 1024))
if ne:
    checks.append("node_exporter: %d scrapes in the window (%d failed), %.0f bytes and %.1f ms each (decoded, as seen by the scraper); %d threads." % (
        ne["scrapes_ok"], ne.get("scrapes_failed", 0), ne["scrape_bytes_avg"], ne["scrape_ms_avg"], ne["threads_end"]))
for n in ("glances", "glances_stock"):
    r = res.get(n)
    if r:
        k, ch = glances_check(n, r)
        checks.append("%s: %d refreshes in the %.0f s window; `mem.used` changed at %d of them (a new collection), so it collected about every %.1f s; %d threads." % (
            n, k, r["wall_ns"] / 1e9, ch, r["wall_ns"] / 1e9 / max(ch, 1), r["threads_end"]))
gone = [n for n in res if res[n] and res[n].get("threads_exited")]
if gone:
    checks.append("threads that exited during the window (counted up to their last 1 s reading): " + ", ".join("%s %d" % (n, res[n]["threads_exited"]) for n in gone) + ".")
print("Checks: " + " ".join(checks))
PY

cpu_model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
	echo "# Monitoring cost: painel vs node_exporter vs glances"
	echo
	echo "Generated by \`bench/monitor/cpu.sh $DURATION\` on $(date -u '+%Y-%m-%d %H:%M UTC') from $src_desc ($(nproc) cores: $cpu_model; $(go version | awk '{print $3}'); kernel $(uname -r); $("$NE_BIN" --version 2>&1 | head -1 | awk '{print $1, $3}'); $("$GLANCES" -V 2>/dev/null | head -1)). Each process ran alone, one after the other, ${WARMUP} s of start-up skipped, then a ${DURATION} s window. CPU is the sum over the process's threads of \`/proc/PID/task/*/schedstat\` field 1 (ns on CPU); RSS is \`VmRSS\` read every second. Load average (1/5/15 min) at the start of each window: $(for n in painel node_exporter glances painel_idle monitor_only ticker glances_stock; do [ -n "${LOAD[$n]:-}" ] && printf '%s %s; ' "$n" "${LOAD[$n]}"; done)before the Go benchmarks: $load_bench. The machine has 2 shared cores and other work on them: compare the rows of one run, not runs of different days."
	echo
	cat "$work/tables.md"
	echo
	echo "## Go benchmarks"
	echo
	echo "\`go test -run '^\$' -bench '$bench_re' -count $BENCH_COUNT -benchtime $BENCHTIME ./internal/monitor/...\`, median of the $BENCH_COUNT runs (min – max beside it). cpu-ns/op is process CPU time (getrusage) per operation; ns/rule is \`BenchmarkEvaluate\`'s time per op over its 100 rules."
	echo
	if [ -n "$missing" ]; then
		echo "**Missing from this run:** $missing(not in the tree when the script ran, or failed to build; see the raw output)."
		echo
	fi
	cat "$work/bench.md"
	echo
	echo "- \`BenchmarkCollect\` (internal/monitor/collect): one host sample from /proc and /sys. Goal ≤ 300 µs CPU."
	echo "- \`BenchmarkStep\` (internal/monitor/fanout_test.go): one full \`Service.Step\` with the real collector: collect, the three default rules, the live stream (no client), history (SQLite flush every simulated minute, expiry every simulated hour). This times 1 Hz is monitoring's own CPU in \`painel serve\`."
	echo "- \`BenchmarkEvaluate\`: 100 threshold + \`for\` + hysteresis rules against one sample."
	echo
	if [ "$PROFILE" = 1 ] && [ -s "$work/pprof-top.txt" ]; then
		echo "## Where \`painel serve\` spends its CPU"
		echo
		echo "A ${PROFILE_SECONDS} s CPU profile of \`painel serve\` (monitor at 1 Hz, nothing calling it), taken by \`bench/monitor/profserve\` (the same \`app.Run\` under \`runtime/pprof\`; the service has no /debug/pprof route), after ${WARMUP} s of start-up. At 100 samples per second a process using ~1.5% of a core leaves only ~$((PROFILE_SECONDS * 3 / 2)) samples: the ranking is meaningful, small entries are not."
		echo
		echo '`go tool pprof -top -cum`:'
		echo
		echo '```'
		sed -n '/^Duration/,$p' "$work/pprof-cum.txt" | sed -n '1,30p'
		echo '```'
		echo
		echo "The same profile, only the stacks that pass through non-runtime code (\`-focus 'painel-universal|otter|sqlite|database/sql|net/http'\`): what the rest is woken up for."
		echo
		echo '```'
		sed -n '/^Duration/,$p' "$work/pprof-focus.txt" | sed -n '1,30p'
		echo '```'
		echo
		sched=$(awk '$NF == "runtime.findRunnable" { print $5; exit }' "$work/pprof-cum.txt")
		coarse=$(grep -hE '^const coarseResolution = ' "$src"/internal/cache/policy/*.go 2>/dev/null | head -1 | sed 's/^const //')
		echo "Reading it: ${sched:-?} of the samples are in \`runtime.findRunnable\`, the scheduler looking for work after a wake-up (futex, epoll, timers, work stealing) rather than work itself; compare the wake-ups per second in the table. Timers that wake the process regardless of load, found in the tree at run time: internal/cache/policy: \`${coarse:-(no coarseResolution constant found)}\` (the period of the otter \`CoarseClock\` shared by the adaptive cache areas, whose goroutine \`otter.updateCoarseClock\` ticks for the life of the process once an area exists); the monitor's own ticker is \`PAINEL_MONITOR_INTERVAL\` (1 s)."
		echo
	fi
	echo "## Caveats"
	echo
	echo "- **Noisy, shared cores.** Other sessions' builds and tests run on the same 2 cores; a busy machine inflates everyone's CPU time (cache misses, contended wake-ups) and the load average above says how busy it was. The rows ran minutes apart, not at once. Ratios within one run are what to compare."
	echo "- **Threads, not just the main one.** \`/proc/PID/schedstat\` is the main thread only: for a Go program it misses most of the CPU (a test here: 0.88 s of 1.80 s). The meter sums \`/proc/PID/task/*/schedstat\`; the utime+stime column (10 ms ticks, whole process) cross-checks it."
	echo "- **Only the tool's own process.** The node_exporter scraper (like Prometheus would, with gzip and keep-alive, text format) runs in the meter and is not counted; neither is Prometheus' own cost of ingesting ~${ne_series:-?} series a second, which a real node_exporter deployment pays on top. painel's figure includes everything a real deployment runs: the HTTP server, the Go runtime and every module's background work, not only monitoring."
	echo "- **Different work.** painel stores its own history (compressed, in SQLite), evaluates alert rules and serves the live stream; node_exporter only exposes the current values (no history, no rules); glances (Python) also walks the process list every refresh and keeps in-memory history for its UI."
	echo "- **glances refresh.** Debian's glances 3.3.1 with \`-t 1\` collects only every 2 s: each plugin's timer is re-armed for \`-t\` seconds when its update ends, while the main loop wakes \`-t\` seconds after the update started, so every other wake-up reuses the old stats (the *glances_stock* row and its check line show it). The measured *glances* row uses a copy of \`/etc/glances/glances.conf\` with \`[global] refresh=1\`, \`check_update=false\` and a 0.5 s timer for every plugin that follows \`-t\` (sensors 1.5 s, its usual double; \`system\`, \`ports\` and the AMPs keep their own slower refresh), so every 1 s wake-up collects. Its CPU percentage is cached for 3 s inside glances (\`cpu_percent.py\`) either way. Output goes through \`--stdout now,mem.used,processcount.total\` to a file, to count the collections; nothing is drawn."
	echo "- **One window each.** A single ${DURATION} s window per tool; the profile and the benchmarks are separate runs. \`BenchmarkStep\` runs in a test binary with a simulated clock (flushes and expiry amortised as at 1 Hz), not inside \`painel serve\`."
	if [ -n "$others" ]; then
		echo "- **Other instances were running** (not started by this script, not measured, but sharing the machine): $(echo "$others" | tr '\n' ';')"
	fi
	echo
	echo "## Raw output"
	echo
	echo '```'
	for n in painel node_exporter glances painel_idle monitor_only ticker glances_stock; do
		[ -s "$work/$n.json" ] && echo "$n: $(cat "$work/$n.json")"
	done
	echo
	grep -E '^(goos|goarch|pkg|cpu|Benchmark|ok|FAIL|---)' "$work/bench.txt" || true
	echo '```'
} >"$OUT"
echo "wrote $OUT" >&2
