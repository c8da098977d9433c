#!/usr/bin/env bash
# Side-by-side benchmarks: what `make bench` runs.  Method: docs/benchmarks.md.
#
#   bash scripts/bench.sh [--update-docs]
#
# Prints a markdown report (machine, date, results) on stdout and writes it to
# build/bench/report.md; --update-docs also puts it into docs/benchmarks.md.
# Progress goes to stderr.
#
# Environment:
#   SBX                 the sbx binary to measure (default: build/sbx)
#   SBX_BENCH_RUNS      runs per one-shot row (default 300)
#   SBX_BENCH_ROUNDS    rounds the runs are split into (default 10)
#   SBX_BENCH_SPAWNS    fork+exec iterations of the in-sandbox loop (default 1000)
#   CC                  compiler for tests/bench/microbench.c (default cc)
#
# Exit status: 0 when every measurement ran, 1 otherwise (missing peer, a row
# that failed, a peer script that failed).  Timings never fail the script.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench
RAW=$OUT/raw
DOC=$ROOT/docs/benchmarks.md

SBX=${SBX:-$ROOT/build/sbx}
RUNS=${SBX_BENCH_RUNS:-300}
ROUNDS=${SBX_BENCH_ROUNDS:-10}
SPAWNS=${SBX_BENCH_SPAWNS:-1000}
SYSCALL_BATCHES=1000
SYSCALL_PER_BATCH=1000
WARMUP=3

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

update_docs=0
for arg in "$@"; do
	case $arg in
	--update-docs) update_docs=1 ;;
	-h | --help)
		sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
		exit 0
		;;
	*) die "unknown argument \`$arg' (usage: scripts/bench.sh [--update-docs])" ;;
	esac
done

for v in RUNS ROUNDS SPAWNS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "SBX_BENCH_$v must be a positive integer, not \`${!v}'"
done
((ROUNDS <= RUNS)) || ROUNDS=$RUNS

# --- peers -----------------------------------------------------------------

# Every row must run: a benchmark that silently drops its comparison row
# reports a ratio against nothing.  Collect all that is missing, then say
# which packages to install in one message.
missing=()
packages=()
need() { # command package
	command -v "$1" >/dev/null 2>&1 && return
	missing+=("$1 (Debian package $2)")
	packages+=("$2")
}
need bwrap bubblewrap
need runc runc
need hyperfine hyperfine
need busybox busybox-static
need unshare util-linux
need python3 python3
need "${CC:-cc}" gcc

# runc's rootfs holds busybox alone, so it must not need a dynamic loader.
is_static() {
	python3 - "$1" <<'EOF'
import struct, sys
with open(sys.argv[1], "rb") as f:
    data = f.read()
if data[:4] != b"\x7fELF" or data[4] != 2:
    sys.exit(1)
phoff, = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
for i in range(phnum):
    p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
    if p_type == 3:  # PT_INTERP: needs a dynamic loader
        sys.exit(1)
EOF
}
if command -v busybox >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
	BUSYBOX=$(readlink -f "$(command -v busybox)")
	if ! is_static "$BUSYBOX"; then
		missing+=("a static busybox: $BUSYBOX is dynamically linked (Debian package busybox-static)")
		packages+=(busybox-static)
	fi
fi
if ((${#missing[@]})); then
	for m in "${missing[@]}"; do
		log "missing: $m"
	done
	die "install what is missing (apt-get install ${packages[*]}) and run again"
fi

[[ -x $SBX ]] || die "no sbx binary at $SBX: run make first (or set SBX=path)"
SBX=$(readlink -f "$SBX")
# runc needs root, and sbx as root (ids mapped to an unprivileged range) is the
# configuration measured, so every row runs with the same privileges.
((EUID == 0)) || die "run as root: runc and the sandbox rows need it"

# --- set-up ----------------------------------------------------------------

rm -rf "$RAW"
mkdir -p "$RAW"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sbx-bench.XXXXXX")
# The sandboxes see the busybox rootfs as their mapped root user: let them in.
chmod 755 "$TMP"
RUNC_ROOT=$TMP/runc-state
RUNC_ID=sbx-bench-$$
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	runc --root "$RUNC_ROOT" delete -f "$RUNC_ID" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

# One rootfs for every engine that takes a directory: busybox-static, the
# two applets /bin/true and /bin/sh, and the mount points bwrap can not
# create in a read-only root.
BUNDLE=$TMP/bundle
RFS=$BUNDLE/rootfs
mkdir -p "$RFS/bin" "$RFS/proc" "$RFS/dev" "$RFS/tmp"
cp "$BUSYBOX" "$RFS/bin/busybox"
ln -s busybox "$RFS/bin/true"
ln -s busybox "$RFS/bin/sh"
(cd "$BUNDLE" && runc spec)
python3 - "$BUNDLE/config.json" <<'EOF'
import json, sys
path = sys.argv[1]
with open(path) as f:
    spec = json.load(f)
spec["process"]["terminal"] = False
spec["process"]["args"] = ["/bin/true"]
with open(path, "w") as f:
    json.dump(spec, f, indent=2)
EOF

# bwrap's equivalent of sbx's default rootfs, a read-only view of the host's
# /usr, /bin, /lib*, /sbin: bind what is a directory, recreate what is a
# symlink (merged-/usr hosts have /bin -> usr/bin), skip what is absent.
HOSTVIEW=(--ro-bind /usr /usr)
for d in /bin /sbin /lib /lib32 /lib64 /libx32; do
	if [[ -L $d ]]; then
		HOSTVIEW+=(--symlink "$(readlink "$d")" "$d")
	elif [[ -d $d ]]; then
		HOSTVIEW+=(--ro-bind "$d" "$d")
	fi
done
BWRAP_BASE=(bwrap --unshare-all)
BWRAP_MOUNTS=(--proc /proc --dev /dev --tmpfs /tmp)

log "compiling tests/bench/microbench.c"
# The warnings of the Makefile: this program is held to the same standard.
"${CC:-cc}" -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Wswitch-default -Wformat=2 -Wpointer-arith -Wcast-align -Wundef -Wvla \
	-o "$OUT/microbench" "$ROOT/tests/bench/microbench.c"

# --- machine ---------------------------------------------------------------

cgroup_v1() {
	# Controllers are the super options of each cgroup (v1) mount.
	awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break
	       if ($(i + 1) != "cgroup") next
	       n = split($(i + 3), o, ",")
	       for (j = 1; j <= n; j++) if (o[j] != "rw" && o[j] != "ro") printf "%s ", o[j] }' \
		/proc/self/mountinfo
}
cgroup_v2() {
	local mnt ctl
	mnt=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break
	             if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
	[[ -n $mnt ]] || {
		echo "not mounted"
		return
	}
	ctl=$(cat "$mnt/cgroup.controllers" 2>/dev/null || true)
	echo "at $mnt, controllers: ${ctl:-none}"
}
machine() { # key value
	printf '%s\t%s\n' "$1" "$2" >>"$RAW/machine.tsv"
}
machine date "$(date -u '+%Y-%m-%d %H:%M UTC')"
machine revision "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo "(no revision)")"
machine sbx "$SBX"
machine runs "$RUNS"
machine rounds "$ROUNDS"
machine kernel "$(uname -r) $(uname -m)"
machine cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
machine nproc "$(nproc)"
machine memory "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
v1=$(cgroup_v1)
v1=${v1% }
machine cgroup_v1 "${v1:-none}"
machine cgroup_v2 "$(cgroup_v2)"
machine load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
machine peers "$(bwrap --version), $(runc --version | head -n1), $(hyperfine --version), $(busybox | head -n1 | cut -d' ' -f1-2)"
log "$(uname -r), $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"

# --- one-shot /bin/true ----------------------------------------------------

ids=()
cmds=()
row() { # id rootfs command...
	local id=$1 rootfs=$2 cmd shown
	shift 2
	# hyperfine -N splits the command line itself (shell words, no shell).
	cmd=$(printf '%q ' "$@")
	cmd=${cmd% }
	shown=${cmd//"$TMP"/\$TMP}
	shown=${shown//"$SBX"/sbx}
	shown=${shown//"$RUNC_ID"/\$ID}
	ids+=("$id")
	cmds+=("$cmd")
	printf '%s\t%s\t%s\n' "$id" "$rootfs" "$shown" >>"$RAW/oneshot.tsv"
	# A row that does not work would be timed as a fast failure: check first.
	"$@" </dev/null >/dev/null || die "row $id failed: $cmd"
}
row sbx "host view" "$SBX" run -q -- /bin/true
row sbx-busybox busybox "$SBX" run -q -r "$RFS" -- /bin/true
row bwrap "host view" "${BWRAP_BASE[@]}" "${HOSTVIEW[@]}" "${BWRAP_MOUNTS[@]}" /bin/true
row bwrap-busybox busybox "${BWRAP_BASE[@]}" --ro-bind "$RFS" / "${BWRAP_MOUNTS[@]}" /bin/true
row runc busybox runc --root "$RUNC_ROOT" run --bundle "$BUNDLE" "$RUNC_ID"
row unshare host unshare -Urmpinuf /bin/true
row true host /bin/true

# Runs are split into rounds and the order of the rows rotates from round to
# round, so that a change in the machine's load during the benchmark (this is
# a shared 2-core machine) lands on every row instead of on one.
per_round=$(((RUNS + ROUNDS - 1) / ROUNDS))
n=${#ids[@]}
for ((r = 0; r < ROUNDS; r++)); do
	args=()
	for ((k = 0; k < n; k++)); do
		i=$(((k + r) % n))
		args+=(--command-name "${ids[i]}" "${cmds[i]}")
	done
	log "one-shot round $((r + 1))/$ROUNDS: $n rows x $per_round runs"
	hyperfine -N --style none --warmup "$WARMUP" --runs "$per_round" \
		--export-json "$RAW/oneshot-r$r.json" "${args[@]}" >/dev/null
done

# --- inside a running sandbox ----------------------------------------------

micro() { # where mode args...
	local where=$1 mode=$2 f
	shift 2
	f=$RAW/micro-$where-$mode.json
	case $where in
	host) "$OUT/microbench" "$mode" "$@" >"$f" ;;
	bwrap)
		"${BWRAP_BASE[@]}" "${HOSTVIEW[@]}" "${BWRAP_MOUNTS[@]}" \
			--ro-bind "$OUT/microbench" /tmp/microbench /tmp/microbench "$mode" "$@" >"$f"
		;;
	sbx)
		# The default policy binds no host path, so the program comes in on
		# stdin and runs from the sandbox's own /tmp.
		"$SBX" run -q -- /bin/sh -c \
			'cat >/tmp/microbench && chmod 700 /tmp/microbench && exec /tmp/microbench "$@"' \
			sh "$mode" "$@" <"$OUT/microbench" >"$f"
		;;
	*) die "micro: unknown place $where" ;;
	esac
}
for where in host bwrap sbx; do
	log "in-sandbox loops: $where"
	micro "$where" spawn "$SPAWNS" /bin/true
	micro "$where" syscall "$SYSCALL_BATCHES" "$SYSCALL_PER_BATCH"
done

# --- the other benchmark scripts -------------------------------------------

status=0
export SBX SBX_BENCH_RUNS=$RUNS
for name in bench-policy bench-import; do
	f=$ROOT/scripts/$name.sh
	md=$RAW/$name.md
	if [[ -x $f ]]; then
		log "running scripts/$name.sh"
		if "$f" >"$md"; then
			st=ok
		else
			rc=$?
			st="scripts/$name.sh failed (exit $rc); its messages went to stderr"
			status=1
		fi
	elif [[ -e $f ]]; then
		st="scripts/$name.sh is not executable: not run"
	else
		st="scripts/$name.sh does not exist: not run"
	fi
	printf '%s\t%s\t%s\n' "$name" "$st" "$md" >>"$RAW/peers.tsv"
done

# --- report ----------------------------------------------------------------

machine load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$ROOT/tests/bench/report.py" "$RAW" >"$OUT/report.md"
cat "$OUT/report.md"
log "report written to ${OUT#"$ROOT"/}/report.md"
if ((update_docs)); then
	python3 "$ROOT/tests/bench/report.py" --splice "$DOC" "$OUT/report.md"
	log "results section of docs/benchmarks.md updated"
fi
exit "$status"
