# lib.sh - a small harness for integration tests (sourced).
#
# Each test is a function test_NAME; `run_tests` runs every one in a
# subshell, then checks that the sandbox left nothing behind (state
# directory, cgroup, process, mount), and ends with the plain line
# "N passed, N failed".  Tests that need root fail (never skip) without it.

SBX=${SBX:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/sbx}
PASS=0
FAIL=0
FAILED=()
WORK=$(mktemp -d /tmp/sbx-it.XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

fail() {
	echo "    FAIL: $*" >&2
	return 1
}

# expect_status WANT CMD... : run CMD, compare its exit status
expect_status() {
	local want=$1 got
	shift
	set +e
	"$@" >"$WORK/out" 2>"$WORK/err"
	got=$?
	set -e
	if [ "$got" != "$want" ]; then
		fail "expected status $want, got $got from: $*"
		sed 's/^/      | /' "$WORK/out" "$WORK/err" | head -20 >&2
		return 1
	fi
}

expect_contains() { # FILE TEXT
	grep -qF -- "$2" "$1" || { fail "$1 lacks \`$2\`"; sed 's/^/      | /' "$1" | head -20 >&2; return 1; }
}

expect_not_contains() { # FILE TEXT
	if grep -qF -- "$2" "$1"; then fail "$1 contains \`$2\`"; sed 's/^/      | /' "$1" | head -20 >&2; return 1; fi
}

state_root() {
	if [ "$(id -u)" = 0 ]; then echo /run/sbx; else echo "${XDG_RUNTIME_DIR:-/tmp}/sbx-$(id -u)"; fi
}

cgroup2_mount() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -1
}

# What a sandbox may leave: state dirs, sbx cgroups, processes of the
# sandbox uid range, mounts.  Snapshot before, compare after.
leftovers() {
	local sr cg
	sr=$(state_root)
	cg=$(cgroup2_mount)
	{
		# dot entries are caches shared by all sandboxes (.mnt, .hostview)
		[ -d "$sr" ] && find "$sr" -mindepth 1 -maxdepth 1 ! -name '.*' -printf 'state %p\n'
		[ -n "$cg" ] && [ -d "$cg/sbx" ] && find "$cg/sbx" -mindepth 1 -maxdepth 1 -type d -printf 'cgroup %p\n'
		[ -n "$cg" ] && find "$cg" -maxdepth 6 -type d -name 'sbx-*' -printf 'cgroup %p\n' 2>/dev/null
		# sandbox processes: host uids of the rootful mapping (runtime/internal.h)
		ps -eo pid=,uid=,comm= | awk '$2 >= 2113929216 && $2 < 2113994752 { print "process " $0 }'
		awk '{ print "mount " $5 }' /proc/self/mountinfo | sort
	} 2>/dev/null | sort
}

run_tests() {
	local t before after
	for t in $(declare -F | awk '{print $3}' | grep '^test_' | sort); do
		if [ -n "${ONLY:-}" ] && [[ "$t" != *"$ONLY"* ]]; then continue; fi
		before=$(leftovers)
		# Not in a condition: bash ignores set -e inside a function called
		# from an `if`, which would let a failing check pass.
		set +e
		(set -e; "$t")
		local rc=$?
		set -e
		if [ $rc = 0 ]; then
			# Give a killed sandbox's processes a moment to be reaped.
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				after=$(leftovers)
				[ "$before" = "$after" ] && break
				sleep 0.2
			done
			if [ "$before" != "$after" ]; then
				echo "FAIL $t (left behind:)"
				diff <(echo "$before") <(echo "$after") | sed 's/^/      /'
				FAIL=$((FAIL + 1))
				FAILED+=("$t")
			else
				echo "ok   $t"
				PASS=$((PASS + 1))
			fi
		else
			echo "FAIL $t"
			FAIL=$((FAIL + 1))
			FAILED+=("$t")
		fi
	done
	[ ${#FAILED[@]} -eq 0 ] || echo "failed: ${FAILED[*]}"
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
}
