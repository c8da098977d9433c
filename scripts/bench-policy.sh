#!/bin/sh
# bench-policy.sh - the policy part of `make bench`: prints markdown tables
# (compile time per built-in policy, BPF size vs Docker's profile compiled by
# libseccomp, cost of an allowed and an argument-filtered syscall).
# Run from the top of the tree after `make`.
set -eu
B=build
DOCKER_JSON=/usr/share/containers/seccomp.json
make -s $B/sbx >/dev/null
mkdir -p $B/bench
# shellcheck disable=SC2046
cc -O2 -std=gnu11 -D_GNU_SOURCE -Iruntime/util -Ipolicy -o $B/bench/policy_bench \
	tests/bench/policy_bench.c $(ls $B/obj/policy/*.o) $B/obj/gen/builtin-policies.o \
	$B/obj/gen/builtin-compiled.o \
	$(ls $B/obj/runtime/util/*.o) \
	-Wl,-Bstatic $(pkg-config --libs libseccomp yaml-0.1 jansson) -Wl,-Bdynamic -lm
docker_yaml=
if [ -r "$DOCKER_JSON" ]; then
	docker_yaml=$B/bench/docker-profile.yaml
	$B/sbx policy import "$DOCKER_JSON" > "$docker_yaml"
fi
echo "### Policy compiler ($(uname -m), $(nproc) cores, kernel $(uname -r), $(date -u +%Y-%m-%d))"
echo
$B/bench/policy_bench $docker_yaml
