#!/usr/bin/env bash
# A soak of the fault suite: N boots (default 50), each one scenario of
# ci/e2e's fault suite picked at random, one after the other, and a count
# of the runs that did not end (a VM that reached the harness' timeout
# without the end lines is a hang). A developer's run, not part of
# `make test`; it needs `make all` first. Usage: ci/soak.sh [N] [REGEXP]
# (REGEXP: only the scenarios whose names match, e.g. to leave out the
# slow ones that wait out a 2-minute bound). Two soaks can run at once
# (each VM takes one core under TCG): each has its own test binary and
# registry.
set -euo pipefail
cd "$(dirname "$0")"
n=${1:-50}
filter=${2:-.}
mapfile -t scenarios < <(grep -ho '^func Test\(Fault[A-Za-z0-9]*\|SignalPID1\|Secrets[A-Za-z]*\|CacheAutoKeeps[A-Za-z]*\|NBDServerGone\|NBDUnreachable\|NFSUnreachable\)(' e2e/*_test.go | sed 's/^func //; s/($//' | grep -E -- "$filter" | sort -u)
[ ${#scenarios[@]} -gt 0 ] || { echo "soak: no scenario matches $filter" >&2; exit 1; }
echo "soak: $n boots among ${#scenarios[@]} scenarios: ${scenarios[*]}"
bin=$(mktemp /tmp/b2c-soak.XXXXXX.test)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" ./e2e/
pass=0 fail=0 hang=0
start=$SECONDS
for i in $(seq 1 "$n"); do
	s=${scenarios[RANDOM % ${#scenarios[@]}]}
	t0=$SECONDS
	log=$(mktemp)
	if (cd e2e && "$bin" -test.count=1 -test.run "^$s\$" >"$log" 2>&1); then
		pass=$((pass + 1)) result=ok
	else
		fail=$((fail + 1)) result=FAIL
		# vm.Timeout's message: the VM never ended by itself.
		if grep -q 'vm timed out after' "$log"; then
			hang=$((hang + 1)) result=HANG
		fi
		cp "$log" "/tmp/b2c-soak-$i-$s.log"
	fi
	printf 'soak: %2d %-32s %-4s %4d s %s\n' "$i" "$s" "$result" $((SECONDS - t0)) "$(grep -o 'fault: .*' "$log" | head -1)"
	rm -f "$log"
done
echo "soak: $n boots in $((SECONDS - start)) s: $pass passed, $fail failed, $hang hung (logs of failures in /tmp/b2c-soak-*.log)"
[ "$fail" = 0 ]
