#!/bin/bash
# Rootless: the core cases as user nobody (unprivileged user namespace,
# only the caller's own uid mapped, no delegated cgroup).  Run by
# `make check` (check-rootless); the harness itself starts as root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "rootless.sh starts as root and drops to user nobody" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
[ -x "$SBX" ] || { echo "no sbx binary at $SBX (run make)" >&2; echo "0 passed, 1 failed"; exit 1; }
# A copy nobody can reach whatever the permissions of the build tree.
install -m 0755 "$SBX" "$WORK/sbx"
NOBODY_SBX=$WORK/sbx
NOBODY_UID=$(id -u nobody)

as_nobody() { (cd / && runuser -u nobody -- env -i PATH=/usr/bin:/bin "$@"); }
run() { as_nobody "$NOBODY_SBX" run -q "$@"; }

# In rootless mode leftovers are nobody's processes and state directories.
leftovers() {
	{
		find "/tmp/sbx-$NOBODY_UID" -mindepth 1 -maxdepth 1 ! -name '.*' -printf 'state %p\n' 2>/dev/null || true
		ps -eo pid=,uid=,comm= | awk -v u="$NOBODY_UID" '$2 == u { print "process " $3 }'
	} | sort
}

test_rootless_runs() {
	expect_status 0 run -- sh -c 'id -u; id -un'
	[ "$(tr '\n' ' ' <"$WORK/out")" = "1000 user " ] || fail "got $(cat "$WORK/out")"
}

test_rootless_no_privileges() {
	expect_status 0 run -- cat /proc/self/status
	expect_contains "$WORK/out" "CapEff:	0000000000000000"
	expect_contains "$WORK/out" "CapBnd:	0000000000000000"
	expect_contains "$WORK/out" "NoNewPrivs:	1"
	expect_contains "$WORK/out" "Seccomp:	2"
}

test_rootless_maps_only_own_uid() {
	expect_status 0 run -- cat /proc/self/uid_map
	[ "$(awk '{print $1, $2, $3}' "$WORK/out")" = "1000 $NOBODY_UID 1" ] || fail "uid_map: $(cat "$WORK/out")"
}

test_rootless_only_loopback() {
	expect_status 0 run -- sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
	[ "$(cat "$WORK/out")" = lo ] || fail "interfaces: $(cat "$WORK/out")"
}

test_rootless_writes_stay_inside() {
	expect_status 0 run -- sh -c 'echo x > /tmp/f && cat /tmp/f && touch /usr/rootless-probe 2>&1 || true'
	expect_contains "$WORK/out" x
	[ ! -e /usr/rootless-probe ] || fail "a write reached the host's /usr"
}

test_rootless_mount_denied() {
	expect_status 0 run -- sh -c 'mount -t tmpfs none /tmp 2>&1 && echo MOUNTED || echo refused'
	expect_contains "$WORK/out" refused
}

test_rootless_exit_and_signal() {
	expect_status 9 run -- sh -c 'exit 9'
	expect_status 143 run -- sh -c 'kill -TERM $$'
}

test_rootless_timeout() {
	expect_status 124 run -t 1s -- sh -c '(setsid sh -c "trap \"\" TERM; exec sleep 1011" &); sleep 1012'
	sleep 0.3
	if pgrep -f 'sleep 101[12]' >/dev/null; then fail "sandbox processes survived"; fi
}

test_rootless_caller_state_does_not_reach_the_command() {
	# signals nobody's caller ignores, setarch -R, a high core limit: none
	# reaches the command, and its status comes back
	expect_status 3 as_nobody timeout -k 5 30 setarch "$(uname -m)" -R python3 -c '
import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$NOBODY_SBX" run -q -- \
		sh -c 'grep SigIgn /proc/self/status; cat /proc/self/personality; ulimit -Hc; exit 3'
	[ "$(tr '\n' ' ' <"$WORK/out" | tr -s '\t ' ' ')" = "SigIgn: 0000000000000000 00000000 0 " ] ||
		fail "inside: $(cat "$WORK/out")"
}

test_rootless_degradation_recorded() {
	# no delegated cgroup here: best-effort limits degrade, and say so
	expect_status 0 as_nobody "$NOBODY_SBX" run --json - -- true
	expect_contains "$WORK/err" "not delegated"
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["usage_source"] == "rusage" and r["degraded"], r' "$WORK/out"
}

test_rootless_strict_fails_closed() {
	expect_status 125 as_nobody "$NOBODY_SBX" run -p strict -- true
	expect_contains "$WORK/err" "can not be enforced"
}

run_tests
