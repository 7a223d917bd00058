#!/usr/bin/env bash
# bench/cache/http.sh: load GET /cache/{chave} on a local painel with wrk and,
# beside it, Redis with redis-benchmark; writes bench/cache/HTTP.md.
#
#   bench/cache/http.sh                  # from anywhere in the repository
#   DURATION=10s CONNS=32 bench/cache/http.sh
#
# Loopback only. Bounded in time (about a minute with the defaults: build,
# 1,000 PUTs, a 2 s wrk warm-up, the 10 s wrk run, the Redis runs); every
# load tool runs under `timeout`, and the server is killed on exit (trap).
#
# Needs: go, curl, wrk (Debian: apt-get install -y wrk), redis-benchmark and
# redis-cli (Debian: redis-tools) and a Redis on REDIS_HOST:REDIS_PORT.
# The Redis keys go to database REDIS_DB (default 13, away from the painel
# Redis tier's tests) and are deleted at the end.
set -euo pipefail

KEYS=${KEYS:-1000}               # distinct keys, in painel and in Redis
VALUE_BYTES=${VALUE_BYTES:-100}  # size of every value
THREADS=${THREADS:-2}            # wrk threads
CONNS=${CONNS:-32}               # wrk connections and redis-benchmark clients
DURATION=${DURATION:-10s}        # measured wrk run
WARMUP=${WARMUP:-2s}             # wrk warm-up, not recorded
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}
REDIS_DB=${REDIS_DB:-13}
REDIS_N=${REDIS_N:-200000}       # redis-benchmark GET requests

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here" && while [ ! -f go.mod ] && [ "$PWD" != / ]; do cd ..; done; pwd)
[ -f "$root/go.mod" ] || { echo "http.sh: go.mod not found above $here" >&2; exit 1; }
OUT=${OUT:-$here/HTTP.md}

for tool in go curl wrk redis-benchmark redis-cli; do
	command -v "$tool" >/dev/null || { echo "http.sh: $tool not found (wrk: apt-get install -y wrk; redis: apt-get install -y redis-tools)" >&2; exit 1; }
done

work=$(mktemp -d)
server_pid=""
redis_keys_set=0
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [ "$redis_keys_set" = 1 ]; then
		# Only the keys this script wrote: key:000000000000 .. key:(KEYS-1).
		for ((i = 0; i < KEYS; i++)); do printf 'DEL key:%012d\n' "$i"; done |
			timeout --foreground 30 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)}
base="http://127.0.0.1:$port"

echo "building painel..." >&2
(cd "$root" && go build -o /tmp/painel-bench ./cmd/painel)

echo "starting painel on 127.0.0.1:$port (data in $work/data)..." >&2
# An admin to create the API key the load uses; no rate limit (the load is one client).
PAINEL_ADMIN_EMAIL=bench@painel.local PAINEL_ADMIN_PASSWORD=bench-senha-longa PAINEL_RATE_LIMIT=0 \
	/tmp/painel-bench serve -addr "127.0.0.1:$port" -data-dir "$work/data" -log-level warn >"$work/server.log" 2>&1 &
server_pid=$!
ready=0
for _ in $(seq 150); do
	if curl -fsS -o /dev/null "$base/readyz" 2>/dev/null; then ready=1; break; fi
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.2
done
if [ "$ready" != 1 ]; then
	echo "http.sh: painel did not become ready; its log:" >&2
	cat "$work/server.log" >&2
	exit 1
fi
# Every request carries an API key scoped to the cache, as a service calling painel would.
token=$(curl -fsS -H 'Content-Type: application/json' -d '{"email":"bench@painel.local","senha":"bench-senha-longa"}' "$base/auth/login" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
apikey=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	-d '{"nome":"bench","escopos":["cache:ler","cache:gravar","cache:estatisticas"]}' "$base/auth/chaves" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["segredo"])')
printf 'header = "X-API-Key: %s"\n' "$apikey" >"$work/auth.curl"
code=$(curl -s -K "$work/auth.curl" -o /dev/null -w '%{http_code}' "$base/cache/areas")
if [ "$code" != 200 ]; then
	echo "http.sh: GET /cache/areas answered $code: the cache routes are not wired into serve yet" >&2
	exit 3
fi

# The same VALUE_BYTES-byte string in both stores (painel stores it as a JSON string).
value=$(head -c "$VALUE_BYTES" /dev/zero | tr '\0' 'x')

echo "PUT $KEYS keys into area padrao..." >&2
{
	for ((i = 0; i < KEYS; i++)); do
		printf 'url = "%s/cache/k%d"\nrequest = "PUT"\nheader = "Content-Type: application/json"\nheader = "X-API-Key: %s"\ndata = "{\\"valor\\":\\"%s\\"}"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
			"$base" "$i" "$apikey" "$value"
		if [ $((i + 1)) -lt "$KEYS" ]; then printf 'next\n'; fi
	done
} >"$work/put.curl"
ok=$(timeout --foreground 120 curl -s -K "$work/put.curl" | grep -c '^2' || true)
if [ "$ok" != "$KEYS" ]; then
	echo "http.sh: only $ok of $KEYS PUTs succeeded" >&2
	exit 1
fi
got=$(curl -s -K "$work/auth.curl" "$base/cache/k0")
[ "$got" = "\"$value\"" ] || { echo "http.sh: GET /cache/k0 returned ${got:0:200}" >&2; exit 1; }

cat >"$work/get.lua" <<EOF
-- GET /cache/k<random> over the $KEYS keys; each wrk thread has its own seed.
local counter = 0
function setup(thread)
	counter = counter + 1
	thread:set("id", counter)
end
function init(args)
	math.randomseed(os.time() * 1000 + (id or 0))
end
wrk.headers["X-API-Key"] = "$apikey"
request = function()
	return wrk.format("GET", "/cache/k" .. math.random(0, $KEYS - 1))
end
EOF

load_wrk=$(cut -d' ' -f1-3 /proc/loadavg)
echo "wrk warm-up ($WARMUP)..." >&2
timeout --foreground 60 wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$work/get.lua" "$base" >/dev/null
stats_before=$(curl -s -K "$work/auth.curl" "$base/cache/estatisticas")
echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency..." >&2
timeout --foreground 120 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$work/get.lua" "$base" | tee "$work/wrk.txt" >&2
stats_after=$(curl -s -K "$work/auth.curl" "$base/cache/estatisticas")

# The server is stopped before Redis is loaded, so they do not share the cores.
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""

load_redis=$(cut -d' ' -f1-3 /proc/loadavg)
echo "redis: SET $KEYS keys (db $REDIS_DB)..." >&2
redis_keys_set=1
for ((i = 0; i < KEYS; i++)); do printf 'SET key:%012d %s\n' "$i" "$value"; done |
	timeout --foreground 30 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" >/dev/null
rb=(redis-benchmark -h "$REDIS_HOST" -p "$REDIS_PORT" --dbnum "$REDIS_DB" -t get -n "$REDIS_N" -c "$CONNS" -r "$KEYS" -d "$VALUE_BYTES")
echo "${rb[*]} -q" >&2
timeout --foreground 120 "${rb[@]}" -q | tr '\r' '\n' | grep -v '^$' | tail -1 | tee "$work/redis-q.txt" >&2
echo "${rb[*]} --csv" >&2
timeout --foreground 120 "${rb[@]}" --csv | tee "$work/redis.csv" >&2

# ---- HTTP.md ----
wrk_field() { awk -v k="$1" '$1 == k { print $2; exit }' "$work/wrk.txt"; }
wrk_rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.txt")
wrk_p50=$(wrk_field 50%)
wrk_p90=$(wrk_field 90%)
wrk_p99=$(wrk_field 99%)
wrk_non2xx=$(awk -F': ' '/Non-2xx or 3xx responses/ { print $2 }' "$work/wrk.txt")
wrk_errors=$(awk -F'Socket errors: ' '/Socket errors/ { print $2 }' "$work/wrk.txt")
wrk_requests=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
IFS=, read -r _ r_rps r_avg r_min r_p50 r_p95 r_p99 r_max < <(tail -1 "$work/redis.csv" | tr -d '"')
padrao_delta=$(python3 - "$stats_before" "$stats_after" <<'PY'
import json, sys
def padrao(s):
    for a in json.loads(s)["areas"]:
        if a["area"] == "padrao":
            return a
b, a = padrao(sys.argv[1]), padrao(sys.argv[2])
h, m = a["hits"] - b["hits"], a["misses"] - b["misses"]
print(f"{h} hits, {m} misses during the measured run (area padrao: {a['itens']} items, {a['bytes']} bytes)")
PY
) || padrao_delta="(estatisticas not readable)"

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
	echo "# GET /cache/{chave} under load, beside redis-benchmark"
	echo
	echo "Generated by \`bench/cache/http.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores: $cpu; $(go version | awk '{print $3}'); $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'); redis $(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" info server | awk -F: '/^redis_version/ { print $2 }' | tr -d '\r')). Loopback; the load generator shares the 2 noisy cores with the server, so read the numbers as one run on this machine, not as capacity. Load average (1/5/15 min) before the wrk run: $load_wrk; before the Redis runs: $load_redis (anything above ~2 is other work competing for the cores)."
	echo
	echo "$KEYS keys of $VALUE_BYTES-byte values, requested uniformly at random, $CONNS connections, closed loop (Debian's wrk 4.1 has no fixed-rate mode, so latency is measured at saturation and, as in any closed loop, understates the tail a fixed-rate client would see)."
	echo
	echo "| target | tool | requests/s | p50 | p99 | notes |"
	echo "| --- | --- | ---: | ---: | ---: | --- |"
	echo "| painel \`GET /cache/k{0..$((KEYS - 1))}\` (area padrao, adaptativo) | \`wrk -t$THREADS -c$CONNS -d$DURATION --latency\` | $wrk_rps | $wrk_p50 | $wrk_p99 | $wrk_requests requests; p90 $wrk_p90; non-2xx: ${wrk_non2xx:-0}; socket errors: ${wrk_errors:-none}; $padrao_delta |"
	echo "| Redis \`GET key:{0..$((KEYS - 1))}\` | \`redis-benchmark -t get -n $REDIS_N -c $CONNS -r $KEYS -d $VALUE_BYTES\` | $r_rps | ${r_p50} ms | ${r_p99} ms | avg $r_avg ms, p95 $r_p95 ms, max $r_max ms (the \`--csv\` run); the \`-q\` run just before: $(sed 's/^GET: //' "$work/redis-q.txt"); one client thread, no pipelining |"
	echo
	echo "Painel answers HTTP/1.1 with JSON, security headers and a request id through its middleware; Redis answers RESP from a single-threaded event loop. The gap is the cost of the HTTP stack, not of the cache lookup (see the Go benchmarks in \`internal/cache/policy\` for that)."
	echo
	echo "## Raw output"
	echo
	echo '```'
	echo "\$ wrk -t$THREADS -c$CONNS -d$DURATION --latency -s get.lua http://127.0.0.1:PORT"
	cat "$work/wrk.txt"
	echo
	echo "\$ ${rb[*]} -q"
	cat "$work/redis-q.txt"
	echo
	echo "\$ ${rb[*]} --csv"
	cat "$work/redis.csv"
	echo '```'
	echo
	echo "wrk script (\`get.lua\`):"
	echo
	echo '```lua'
	cat "$work/get.lua"
	echo '```'
} >"$OUT"
echo "wrote $OUT" >&2
