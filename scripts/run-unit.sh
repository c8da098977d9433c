#!/bin/sh
# run-unit.sh BIN... - run each Check test binary; fail if any fails.
# Each binary prints Check's own summary line.
# Unit tests compile policies; keep them out of the real program cache
# (test_policy_cache points SBX_CACHE_DIR at its own directory).
export SBX_CACHE_DIR=
fail=0
for t in "$@"; do
	echo "== $t"
	if ! "$t"; then
		echo "FAILED: $t"
		fail=1
	fi
done
exit $fail
