#!/usr/bin/env bash
# Runs Go fuzzers briefly and fails only on what a fuzzer found.
#
#   tests/fuzz/run.sh PACKAGE FUZZTIME Fuzzer...
#
# A duration -fuzztime can end with a bare "context deadline exceeded" and
# exit status 1 although nothing failed: Go's fuzzing coordinator races its
# own deadline under CPU load (golang/go#51484). An execution-count budget
# avoids that race but not its cost: on a loaded 2-core machine the archive
# fuzzers run between 3 and 2,500 executions a second, so a count sized for
# an idle machine can take many minutes. This script keeps the time bound and
# makes the verdict deterministic instead:
#   - a fuzzer that exits 0 passed;
#   - a fuzzer that wrote a reproducer ("Failing input written to …") failed,
#     and the reproducer stays in testdata/fuzz/ for `go test` to replay;
#   - any other non-zero exit is judged by replaying the fuzzer's committed
#     seed corpus with plain `go test -run`: that replay is the gate (it also
#     fails on a build error, so nothing real is waved through).
set -u
pkg=$1 fuzztime=$2
shift 2
go=${GO:-go}
status=0
for f in "$@"; do
	log=$(mktemp)
	echo ">> fuzz $f ($fuzztime)"
	"$go" test -run '^$' -fuzz "^$f\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s "$pkg" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		tail -n 1 "$log"
	elif grep -q 'Failing input written to' "$log"; then
		cat "$log"
		echo ">> $f found a failing input (kept under testdata/fuzz/$f; go test replays it)"
		status=1
	else
		tail -n 5 "$log"
		echo ">> $f ended with status $rc and wrote no reproducer: replaying its corpus"
		if ! "$go" test -count=1 -run "^$f\$" "$pkg"; then
			status=1
		fi
	fi
	rm -f "$log"
done
exit $status
