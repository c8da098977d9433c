#!/bin/sh
# run-unit.sh BIN... - run each Check test binary; fail if any fails.
# Each binary prints Check's own summary line.
fail=0
for t in "$@"; do
	echo "== $t"
	if ! "$t"; then
		echo "FAILED: $t"
		fail=1
	fi
done
exit $fail
