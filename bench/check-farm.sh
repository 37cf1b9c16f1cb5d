#!/usr/bin/env bash
# Wall time and peak RSS of `fanout check` against a loopback farm running in
# its own process (so only fanout is measured). Loopback only; every run is
# bounded by --deadline. Prints the median of RUNS runs of each scenario.
#
#   bash bench/check-farm.sh            # RUNS=5 by default
#
# Scenarios (issue 2's figures):
#   200 targets × 100 ms, -c 200                     target ≤ 0.25 s
#   10,000 targets × 100 ms on 200 listeners, -c 1000  target ≤ 2 s, ≤ 150 MB RSS
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
out=bench/out
mkdir -p "$out"
go build -o "$out/fanout" ./cmd/fanout
go build -o "$out/farm" ./bench/farm

farm_pid=""
start_farm() { # services paths
	rm -f "$out/farm.in" && mkfifo "$out/farm.in"
	"$out/farm" -services "$1" -paths "$2" -latency 100ms -targets "$out/targets.txt" \
		<"$out/farm.in" 2>"$out/farm.log" &
	farm_pid=$!
	exec 3>"$out/farm.in" # the farm runs until this is closed
	for _ in $(seq 100); do grep -q ready "$out/farm.log" 2>/dev/null && return; sleep 0.1; done
	echo "farm did not start" >&2; exit 1
}
stop_farm() { exec 3>&-; wait "$farm_pid" || true; rm -f "$out/farm.in"; }
trap 'stop_farm 2>/dev/null || true' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

scenario() { # name services paths concurrency
	local name=$1
	start_farm "$2" "$3"
	local n; n=$(wc -l <"$out/targets.txt")
	: >"$out/walls" ; : >"$out/rss"; : >"$out/seq"
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -f "%e %M" -o "$out/time" \
			"$out/fanout" check -f "$out/targets.txt" -c "$4" --deadline 30s -o json -q >"$out/result.json" || true
		read -r wall rss <"$out/time"
		echo "$wall" >>"$out/walls"; echo "$rss" >>"$out/rss"
		python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(round(s["sum_ms"]/1000, 1), s["ok"], s["total"], round(s["wall_ms"]/1000, 3), s["latency_ms"]["p50"])' \
			"$out/result.json" >>"$out/seq"
	done
	stop_farm
	printf '%-34s targets=%-6s -c %-5s wall(median of %s)=%ss  peak RSS=%s MB  ok/total=%s  in-run wall=%ss  p50=%sms  sequential≈%ss\n' \
		"$name" "$n" "$4" "$RUNS" "$(median <"$out/walls")" "$(( $(median <"$out/rss") / 1024 ))" \
		"$(awk '{print $2"/"$3}' "$out/seq" | tail -1)" "$(awk '{print $4}' "$out/seq" | median)" \
		"$(awk '{print $5}' "$out/seq" | median)" "$(awk '{print $1}' "$out/seq" | median)"
}

scenario "200 × 100ms" 200 1 200
scenario "10,000 × 100ms on 200 listeners" 200 50 1000
