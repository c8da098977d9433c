#!/bin/sh
# cgroup v2 limit tests, run by /init inside the VM (busybox sh, as root, with
# cgroup2 at /sys/fs/cgroup and the cpu, memory, pids and io controllers
# enabled at the root).
#
#   sh /tests/tests.sh [NAME...]      run all tests, or only the named ones
#
# Each test prints "PASS name" or "FAIL name: reason"; the last line is exactly
# "N passed, N failed", which tests/vm/run.sh looks for on the console.

PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin
export PATH

SBX=/usr/local/bin/sbx
ROOTFS=/rootfs
POLICIES=/tests/policies
CG=/sys/fs/cgroup
# Every sbx call is bounded, so a hung runtime fails one test instead of
# running into the host's timeout with no result line at all.
SBX_GUARD=60

ALL_TESTS="boot runtime limits oom forkbomb cpu"

# ---------------------------------------------------------------------------
# helpers (a test runs in a subshell: `fail` ends that test only)

info() { echo "INFO $T: $*"; }

# Status 99 tells the runner that the reason is already printed.
fail() {
        echo "FAIL $T: $*"
        exit 99
}

# sbx_run OUT_PREFIX ARGS...: run sbx with a guard; stdout+stderr go to
# OUT_PREFIX.out, the exit status to OUT_PREFIX.rc.
sbx_run() {
        out=$1
        shift
        rc=0
        timeout "$SBX_GUARD" "$SBX" "$@" >"$out.out" 2>&1 || rc=$?
        echo "$rc" >"$out.rc"
}

# show_output FILE: the first lines of a command's output, for the log.
show_output() {
        head -n 15 "$1" | sed "s/^/INFO $T:   | /"
}

# json_value FILE KEY: the raw text of the value of the first "KEY" in a
# result record: a scalar, a string with its quotes, or a flat array; empty
# when the file or the key is missing.  (busybox has no JSON tool, and the
# tests only read a few top-level keys.)
json_value() {
        [ -f "$1" ] || return 0
        tr -d '\n' <"$1" | awk -v k="\"$2\"" '{
                i = index($0, k)
                if (!i) exit
                s = substr($0, i + length(k))
                sub(/^[ \t]*:[ \t]*/, "", s)
                if (substr(s, 1, 1) == "[") v = substr(s, 1, index(s, "]"))
                else if (match(s, /^"[^"]*"/)) v = substr(s, 1, RLENGTH)
                else { match(s, /^[^,}]*/); v = substr(s, 1, RLENGTH) }
                sub(/[ \t]+$/, "", v)
                print v
        }'
}

# cg_key FILE KEY: the value of "KEY VALUE" in a flat-keyed cgroup file.
cg_key() {
        awk -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null || true
}

# sandbox_cgroup SECONDS: print the cgroup of the one running sandbox, i.e. the
# first populated directory under $CG/sbx (sbx may nest the payload one level
# deeper), waiting up to SECONDS for it to appear.
sandbox_cgroup() {
        i=0
        while [ "$i" -lt $(($1 * 10)) ]; do
                for d in "$CG"/sbx/*/; do
                        [ -d "$d" ] || continue
                        if [ -s "${d}cgroup.procs" ] || grep -qs '^populated 1' "${d}cgroup.events"; then
                                echo "${d%/}"
                                return 0
                        fi
                done
                usleep 100000
                i=$((i + 1))
        done
        return 1
}

# no_cgroup PID OUTPUT: a sandbox started in the background never showed
# its cgroup: say how sbx ended.
no_cgroup() {
        rc=0
        wait "$1" || rc=$?
        show_output "$2"
        fail "no sandbox cgroup appeared under $CG/sbx (sbx exited $rc)"
}

# no_sandbox_left: after a run, no sandbox cgroup, overlay mount or state
# directory remains.
no_sandbox_left() {
        for d in "$CG"/sbx/*/; do
                if [ -d "$d" ]; then fail "sandbox cgroup left behind: $d"; fi
        done
        if grep -q overlay /proc/self/mountinfo; then
                fail "overlay mount left behind: $(grep overlay /proc/self/mountinfo | sed -n 1p)"
        fi
        # .mnt and .hostview are shared by all sandboxes (a mount point, a cache)
        left=$(find /run/sbx -mindepth 1 -maxdepth 1 ! -name '.*' 2>/dev/null | tr '\n' ' ')
        [ -z "$left" ] || fail "state left behind in /run/sbx: $left"
        return 0
}

# host_responsive: this shell can still fork and run programs, quickly.
host_responsive() {
        # shellcheck disable=SC2016 # expanded by the inner shell
        timeout 20 sh -c 'i=0; while [ $i -lt 20 ]; do /bin/true || exit 1; i=$((i + 1)); done' ||
                fail "the VM could not run 20 processes within 20 s"
}

# needs_runtime: the sbx tests need a working `sbx run`.
needs_runtime() {
        [ -x "$SBX" ] || fail "$SBX missing from the initramfs"
        sbx_run /tmp/probe run -r "$ROOTFS" -- /bin/true
        if [ "$(cat /tmp/probe.rc)" != 0 ]; then
                show_output /tmp/probe.out
                fail "sbx run -r $ROOTFS -- /bin/true exited $(cat /tmp/probe.rc)"
        fi
}

# ---------------------------------------------------------------------------
# tests

# The VM itself: what sbx and the other tests rely on.
t_boot() {
        for c in cpu memory pids io; do
                grep -qw "$c" "$CG/cgroup.subtree_control" ||
                        fail "controller $c not enabled in $CG/cgroup.subtree_control"
        done
        grep -qw overlay /proc/filesystems || fail "overlay filesystem not available (insmod overlay.ko)"
        ip link add sbxv0 type veth peer name sbxv1 || fail "cannot create a veth pair (insmod veth.ko)"
        ip link del sbxv0
        # An overlay over the sandbox rootfs and a pivot_root into it: what
        # every sandbox does, and what fails if / were still the initramfs.
        mkdir -p /tmp/ov/upper /tmp/ov/work /tmp/ov/merged
        mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=/tmp/ov/upper,workdir=/tmp/ov/work" \
                /tmp/ov/merged || fail "overlay mount failed"
        got=$(unshare -m sh -c 'mount --make-rprivate / &&
                cd /tmp/ov/merged && mkdir -p .old && pivot_root . .old &&
                exec /bin/busybox echo pivoted' 2>&1) || true
        umount /tmp/ov/merged
        rm -rf /tmp/ov
        [ "$got" = pivoted ] || fail "pivot_root into an overlay failed: $got"
        [ "$(/rootfs/bin/busybox echo hello)" = hello ] || fail "busybox does not run"
}

# The runtime works at all here; the other sbx tests would fail for the same
# reason, but this says it once and plainly.
t_runtime() {
        needs_runtime
        # shellcheck disable=SC2016 # expanded inside the sandbox
        sbx_run /tmp/rt run -r "$ROOTFS" -- /bin/sh -c 'echo "$(id -u) $(cat /proc/self/cgroup)"'
        [ "$(cat /tmp/rt.rc)" = 0 ] || { show_output /tmp/rt.out; fail "sbx run exited $(cat /tmp/rt.rc)"; }
        info "inside: $(cat /tmp/rt.out)"
        no_sandbox_left
}

# A strict policy with memory, swap, pids, cpu and io limits: sbx must not degrade
# anything here (the controllers exist), and the sandbox cgroup must carry the
# exact values.  On a host without the controllers the same policy fails
# closed (tested on the host, not here).
t_limits() {
        needs_runtime
        "$SBX" run -p "$POLICIES/limits.yaml" -r "$ROOTFS" --json /tmp/limits.json -- \
                /bin/sleep 3 >/tmp/limits.out 2>&1 &
        pid=$!
        cg=$(sandbox_cgroup 20) || no_cgroup "$pid" /tmp/limits.out
        mem=$(cat "$cg/memory.max")
        swap=$(cat "$cg/memory.swap.max")
        pids=$(cat "$cg/pids.max")
        cpu=$(cat "$cg/cpu.max")
        io=$(cg_key "$cg/io.weight" default)
        info "cgroup $cg: memory.max=$mem memory.swap.max=$swap pids.max=$pids cpu.max=$cpu" \
                "io.weight=default $io"
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" = 0 ] || { show_output /tmp/limits.out; fail "sbx run exited $rc"; }
        [ "$mem" = 134217728 ] || fail "memory.max is $mem, the policy says 128MiB"
        [ "$swap" = 0 ] || fail "memory.swap.max is $swap, the policy says 0"
        [ "$pids" = 128 ] || fail "pids.max is $pids, the policy says 128"
        [ "$cpu" = "50000 100000" ] || fail "cpu.max is '$cpu', the policy says 0.5 cpu"
        [ "$io" = 200 ] || fail "io.weight default is '$io', the policy says 200"
        degraded=$(json_value /tmp/limits.json degraded)
        info "record: degraded=$degraded"
        case "$degraded" in
        "" | "[]" | "[ ]" | null | false) ;;
        *) fail "the result record lists degraded limits: $degraded" ;;
        esac
        no_sandbox_left
}

# A memory hog is OOM-killed inside its sandbox only: a process of ours
# outside the sandbox survives, the record says oom_killed, and the kernel
# logged a memory cgroup (not a global) OOM.
t_oom() {
        needs_runtime
        sleep 600 &
        bystander=$!
        klines0=$(dmesg | wc -l)
        sbx_run /tmp/oom run -p "$POLICIES/oom.yaml" -r "$ROOTFS" --json /tmp/oom.json -- /usr/local/bin/memhog
        rc=$(cat /tmp/oom.rc)
        peak=$(json_value /tmp/oom.json memory_peak_bytes)
        info "sbx exited $rc; record: oom_killed=$(json_value /tmp/oom.json oom_killed)" \
                "signal=$(json_value /tmp/oom.json signal) memory_peak_bytes=$peak"
        kill -0 "$bystander" 2>/dev/null || fail "a process outside the sandbox was killed"
        kill "$bystander"
        kill -0 1 || fail "init is gone"
        [ "$rc" = 137 ] || { show_output /tmp/oom.out; fail "expected exit 137 (SIGKILL by the OOM killer), got $rc"; }
        [ "$(json_value /tmp/oom.json oom_killed)" = true ] || {
                show_output /tmp/oom.json
                fail "the result record does not say \"oom_killed\": true"
        }
        # memory.peak exists since Linux 5.19: the record must carry it here,
        # and a peak above memory.max would mean the limit did not hold.
        case "$peak" in
        "" | null) fail "the result record has no memory_peak_bytes" ;;
        *) [ "$peak" -le 67108864 ] || fail "memory_peak_bytes $peak above the 64MiB limit" ;;
        esac
        dmesg | tail -n +$((klines0 + 1)) >/tmp/oom.dmesg
        grep -q 'Memory cgroup out of memory' /tmp/oom.dmesg || fail "no memory cgroup OOM in the kernel log"
        if grep -q '] Out of memory: Killed process' /tmp/oom.dmesg; then
                fail "the kernel ran a global OOM kill"
        fi
        no_sandbox_left
}

# A fork bomb stops at pids.max: the sandbox never holds more than the limit,
# the kernel counts refused forks in pids.events, and this shell (outside)
# keeps forking.  The bomb never stops on its own; the time limit ends it.
t_forkbomb() {
        needs_runtime
        "$SBX" run -p "$POLICIES/forkbomb.yaml" -r "$ROOTFS" -t 8s --json /tmp/fb.json -- \
                /usr/local/bin/forkbomb >/tmp/fb.out 2>&1 &
        pid=$!
        cg=$(sandbox_cgroup 20) || no_cgroup "$pid" /tmp/fb.out
        limit=$(cat "$cg/pids.max")
        # Wait (up to 5 s) until the kernel has refused a fork.
        i=0
        hits=0
        while [ "$i" -lt 50 ]; do
                hits=$(cg_key "$cg/pids.events" max)
                if [ "${hits:-0}" -gt 0 ]; then break; fi
                usleep 100000
                i=$((i + 1))
        done
        cur=$(cat "$cg/pids.current" 2>/dev/null) || fail "the sandbox ended before the fork bomb hit pids.max"
        host_responsive
        info "pids.max=$limit pids.current=$cur refused forks=$hits;" \
                "after 20 processes outside: refused forks=$(cg_key "$cg/pids.events" max)"
        timeout 60 sh -c "while kill -0 $pid 2>/dev/null; do sleep 1; done" ||
                fail "sbx did not end within 60 s after the fork bomb started"
        rc=0
        wait "$pid" || rc=$?
        [ "$limit" = 64 ] || fail "pids.max is $limit, the policy says 64"
        [ "${hits:-0}" -gt 0 ] || fail "pids.events never counted a refused fork"
        [ "${cur:-0}" -le 64 ] || fail "pids.current $cur above pids.max 64"
        [ "$rc" = 124 ] || { show_output /tmp/fb.out; fail "expected exit 124 (time limit), got $rc"; }
        [ "$(json_value /tmp/fb.json timed_out)" = true ] || fail "the result record does not say timed_out"
        if left=$(pidof awk); then
                fail "processes of the fork bomb outlived the sandbox: awk $left"
        fi
        no_sandbox_left
}

# A CPU loop under cpu.max (0.2 cpu) is throttled: nr_throttled and
# throttled_usec grow in the sandbox cgroup's cpu.stat, and the result record
# reports them.  The time limit leaves 3 s of margin around the 2 s sample
# for a slow start.
t_cpu() {
        needs_runtime
        "$SBX" run -p "$POLICIES/cpu.yaml" -r "$ROOTFS" -t 5s --json /tmp/cpu.json -- \
                /bin/sh -c 'while :; do :; done' >/tmp/cpu.out 2>&1 &
        pid=$!
        cg=$(sandbox_cgroup 20) || no_cgroup "$pid" /tmp/cpu.out
        max=$(cat "$cg/cpu.max")
        sleep 2
        stat=$(cat "$cg/cpu.stat") || fail "the sandbox ended before 2 s of its CPU loop"
        rc=0
        wait "$pid" || rc=$?
        usage=$(echo "$stat" | awk '$1 == "usage_usec" { print $2 }')
        nr=$(echo "$stat" | awk '$1 == "nr_throttled" { print $2 }')
        tus=$(echo "$stat" | awk '$1 == "throttled_usec" { print $2 }')
        rnr=$(json_value /tmp/cpu.json cpu_nr_throttled)
        info "cpu.max=$max after 2 s: usage_usec=$usage nr_throttled=$nr throttled_usec=$tus;" \
                "record: cpu_time_usec=$(json_value /tmp/cpu.json cpu_time_usec) cpu_nr_throttled=$rnr" \
                "cpu_throttled_usec=$(json_value /tmp/cpu.json cpu_throttled_usec)"
        [ "$max" = "20000 100000" ] || fail "cpu.max is '$max', the policy says 0.2 cpu"
        [ "${nr:-0}" -gt 0 ] || fail "nr_throttled is ${nr:-missing}"
        [ "${tus:-0}" -gt 0 ] || fail "throttled_usec is ${tus:-missing}"
        [ "$rc" = 124 ] || { show_output /tmp/cpu.out; fail "expected exit 124 (time limit), got $rc"; }
        # The record reads cpu.stat at the end: at least what was seen live.
        case "$rnr" in
        "" | null) fail "the result record has no cpu_nr_throttled" ;;
        *) [ "$rnr" -ge "$nr" ] || fail "the record's cpu_nr_throttled $rnr is below the live $nr" ;;
        esac
        no_sandbox_left
}

# ---------------------------------------------------------------------------

passed=0
failed=0
if [ $# -eq 0 ]; then
        # shellcheck disable=SC2086 # a list of names
        set -- $ALL_TESTS
fi
for T in "$@"; do
        case " $ALL_TESTS " in
        *" $T "*) ;;
        *)
                echo "FAIL $T: no such test (tests: $ALL_TESTS)"
                failed=$((failed + 1))
                continue
                ;;
        esac
        start=$(cut -d' ' -f1 /proc/uptime)
        klines=$(dmesg | wc -l)
        # In the background because errexit is ignored in a subshell whose
        # status is tested (`if (t_x)`): this way any failing command ends
        # the test, not only the checks that call fail.
        (
                # shellcheck disable=SC3040 # busybox ash has pipefail
                set -eu -o pipefail
                "t_$T"
        ) &
        rc=0
        wait $! || rc=$?
        if [ "$rc" = 0 ]; then
                echo "PASS $T ($(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime) s)"
                passed=$((passed + 1))
        else
                [ "$rc" = 99 ] || echo "FAIL $T: a command failed (status $rc)"
                failed=$((failed + 1))
                # Kernel messages are kept off the console; show the last
                # ones this test caused with the failure.
                dmesg | tail -n +$((klines + 1)) | tail -n 12 | sed "s/^/INFO $T: dmesg: /"
                # Leave no sandbox running into the next test.
                for d in "$CG"/sbx/*/; do
                        if [ -e "${d}cgroup.kill" ]; then echo 1 >"${d}cgroup.kill"; fi
                done
        fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
