#!/usr/bin/env bash
# HTTP download benchmark: internal/httpdl against aria2c and curl on a
# loopback origin, uncapped and with a per-connection rate cap. Not part of
# `make test`; run by `make bench`. tests/bench/README.md explains the
# output and the knobs (BENCH_QUICK, BENCH_SIZE, BENCH_RUNS, BENCH_CAP,
# BENCH_CONNS, BENCH_DIR, BENCH_OUT, BENCH_KEEP).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GO="${GO:-go}"
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
	SIZE="${BENCH_SIZE:-64MiB}"
	RUNS="${BENCH_RUNS:-1}"
else
	SIZE="${BENCH_SIZE:-1GiB}"
	RUNS="${BENCH_RUNS:-3}"
fi
CAP="${BENCH_CAP:-50MB}"
CONNS="${BENCH_CONNS:-8}"

log() { echo ">> $*" >&2; }
die() {
	echo "bench: $*" >&2
	exit 1
}

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, got '$RUNS'"
[[ "$CONNS" =~ ^[1-9][0-9]*$ ]] && ((CONNS <= 16)) || die "BENCH_CONNS must be 1..16 (aria2c's limit), got '$CONNS'"

# Tools: install only what is missing, and only as root.
missing=()
command -v aria2c >/dev/null 2>&1 || missing+=(aria2)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v sha256sum >/dev/null 2>&1 || missing+=(coreutils)
if ((${#missing[@]})); then
	if [[ "$(id -u)" != 0 ]]; then
		die "missing tools; run: sudo apt-get install -y ${missing[*]}"
	fi
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ -n "${BENCH_DIR:-}" ]]; then
	WORK="$BENCH_DIR"
	mkdir -p "$WORK"
else
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/mirrorleech-bench.XXXXXX")"
fi
OUT="${BENCH_OUT:-$WORK/out}"
BIN="$WORK/bin"
RESULTS="$WORK/results.tsv"
ORIGIN_PID=""

cleanup() {
	if [[ -n "$ORIGIN_PID" ]]; then
		kill "$ORIGIN_PID" 2>/dev/null || true
		wait "$ORIGIN_PID" 2>/dev/null || true
	fi
	rm -rf "$OUT"
	if [[ -z "${BENCH_DIR:-}" && "${BENCH_KEEP:-0}" != 1 ]]; then
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

log "building the origin and the engine driver"
mkdir -p "$BIN"
(cd "$ROOT" && "$GO" build -o "$BIN/origin-server" ./tests/bench/cmd/origin-server)
(cd "$ROOT" && "$GO" build -o "$BIN/httpdl-bench" ./tests/bench/cmd/httpdl-bench)

# start_origin CAP: starts the origin (CAP "" = uncapped) and sets
# ORIGIN_PID, URL, SHA and BYTES.
start_origin() {
	local cap="$1" out="$WORK/origin.out"
	local args=(-size "$SIZE" -dir "$WORK/data")
	[[ -n "$cap" ]] && args+=(-cap "$cap")
	: >"$out"
	"$BIN/origin-server" "${args[@]}" >"$out" 2>"$WORK/origin.err" &
	ORIGIN_PID=$!
	local i
	for ((i = 0; i < 1500; i++)); do
		grep -qx ready "$out" && break
		kill -0 "$ORIGIN_PID" 2>/dev/null || die "origin-server exited: $(cat "$WORK/origin.err")"
		sleep 0.2
	done
	grep -qx ready "$out" || die "origin-server not ready after 300 s"
	URL="$(sed -n 's/^url=//p' "$out")"
	SHA="$(sed -n 's/^sha256=//p' "$out")"
	BYTES="$(sed -n 's/^size=//p' "$out")"
}

stop_origin() {
	kill "$ORIGIN_PID" 2>/dev/null || true
	wait "$ORIGIN_PID" 2>/dev/null || true
	ORIGIN_PID=""
}

# origin_cpu prints the origin's user+system CPU time so far, in seconds.
origin_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$ORIGIN_PID/stat"
}

# measure MODE TOOL RUN CMD...: runs one download into $OUT and appends a
# result line: mode, tool, run, MB/s, wall s, client CPU s, max RSS KiB,
# origin CPU s, sha256 verdict.
measure() {
	local mode="$1" tool="$2" run="$3"
	shift 3
	rm -rf "$OUT"
	mkdir -p "$OUT"
	sync # the previous run's writeback must not slow this one
	local c0 c1 verdict=ok
	c0="$(origin_cpu)"
	if ! /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" timeout 1800 "$@" >"$WORK/tool.out" 2>&1; then
		verdict=FAILED
		log "$tool failed: $(tail -n 5 "$WORK/tool.out")"
	fi
	c1="$(origin_cpu)"
	local wall user sys rss got
	read -r wall user sys rss < <(tail -n 1 "$WORK/time")
	if [[ "$verdict" == ok ]]; then
		got="$(sha256sum "$OUT/bench.bin" 2>/dev/null | cut -d' ' -f1 || true)"
		[[ "$got" == "$SHA" ]] || verdict=MISMATCH
	fi
	awk -v m="$mode" -v t="$tool" -v r="$run" -v b="$BYTES" -v w="$wall" -v u="$user" -v s="$sys" \
		-v k="$rss" -v c0="$c0" -v c1="$c1" -v v="$verdict" \
		'BEGIN {printf "%s\t%s\t%s\t%.1f\t%.2f\t%.2f\t%d\t%.2f\t%s\n", m, t, r, b/1e6/w, w, u+s, k, c1-c0, v}' >>"$RESULTS"
	log "$(tail -n 1 "$RESULTS" | awk -F'\t' '{printf "%-9s %-22s run %s: %7.1f MB/s, %5.2f s, CPU %.2f s, sha256 %s", $1, $2, $3, $4, $5, $6, $9}')"
	rm -rf "$OUT"
}

ENGINE="httpdl n=$CONNS"
ARIA="aria2c -x$CONNS -s$CONNS -k1M"
CURL="curl -o"
: >"$RESULTS"
for mode in uncapped capped; do
	cap=""
	[[ "$mode" == capped ]] && cap="$CAP"
	log "$mode: starting the origin ($SIZE${cap:+, $cap/s per connection}; the first start generates the file)"
	start_origin "$cap"
	for ((run = 1; run <= RUNS; run++)); do
		measure "$mode" "$ENGINE" "$run" "$BIN/httpdl-bench" -c "$CONNS" -o "$OUT" -sha256=false "$URL"
		measure "$mode" "$ARIA" "$run" aria2c -q -x"$CONNS" -s"$CONNS" -k1M --file-allocation=none \
			--allow-overwrite=true --auto-file-renaming=false -d "$OUT" -o bench.bin "$URL"
		measure "$mode" "$CURL" "$run" curl -sS -f -o "$OUT/bench.bin" "$URL"
	done
	stop_origin
done

echo
echo "HTTP download benchmark: $SIZE ($BYTES bytes), $RUNS run(s) per tool, loopback origin on $(nproc) CPU(s);"
echo "capped = ${CAP}/s per TCP connection. MB/s = 10^6 bytes / wall time incl. process start (httpdl also fsyncs)."
echo
awk -F'\t' -v engine="$ENGINE" -v aria="$ARIA" -v curl="$CURL" '
function median(list, n,    a, i, j, t) {
	n = split(list, a, "/")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	k = $1 SUBSEP $2
	if (!(k in speeds)) { order[++n] = k; speeds[k] = $4 } else speeds[k] = speeds[k] "/" $4
	if (!(k in cmin) || $6 < cmin[k]) cmin[k] = $6
	if (!(k in cmax) || $6 > cmax[k]) cmax[k] = $6
	if ($7 > rss[k]) rss[k] = $7
	ocpu[k] += $8; runs[k]++
	if ($9 != "ok") bad[k] = bad[k] ? bad[k] : $9
}
END {
	printf "| %-8s | %-22s | %-24s | %8s | %-12s | %7s | %12s | %-8s |\n", "mode", "tool", "MB/s per run", "median", "client CPU s", "RSS MiB", "origin CPU s", "sha256"
	printf "|%s|%s|%s|%s|%s|%s|%s|%s|\n", "----------", "------------------------", "--------------------------", "----------", "--------------", "---------", "--------------", "----------"
	for (i = 1; i <= n; i++) {
		k = order[i]; split(k, p, SUBSEP)
		med[k] = median(speeds[k])
		cpu = (cmin[k] == cmax[k]) ? sprintf("%.2f", cmin[k]) : sprintf("%.2f-%.2f", cmin[k], cmax[k])
		printf "| %-8s | %-22s | %-24s | %8.1f | %-12s | %7.0f | %12.2f | %-8s |\n", p[1], p[2], speeds[k], med[k], cpu, rss[k] / 1024, ocpu[k] / runs[k], (bad[k] ? bad[k] : "ok")
		if (bad[k]) failed = 1
	}
	print ""
	for (m = 1; m <= 2; m++) {
		mode = m == 1 ? "uncapped" : "capped"
		e = med[mode SUBSEP engine]; a = med[mode SUBSEP aria]; c = med[mode SUBSEP curl]
		if (e == "") continue
		printf "%-8s  engine/aria2c = %.2fx   engine/curl = %.2fx\n", mode, (a > 0 ? e / a : 0), (c > 0 ? e / c : 0)
	}
	exit failed
}' "$RESULTS"
