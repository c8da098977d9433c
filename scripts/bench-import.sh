#!/usr/bin/env bash
# bench-import.sh - `sbx image import` of a multi-layer OCI image vs `umoci
# unpack` vs plain `tar -x` of the same gzip layers, side by side in one run
# (hyperfine), reported as a markdown table with ratios to bare tar.
#
#   scripts/bench-import.sh [RUNS]      (run as root from the top of the tree)
#
# Work happens on tmpfs (BENCH_DIR, default /dev/shm) so that the numbers
# measure decompression, hashing and file creation, not a shared disk's
# write-back; on tmpfs the import's syncfs costs nothing.  Set BENCH_DIR to a
# disk directory to include the disk.
#
# The image is built here from host directories (python, perl, C headers:
# ~200 MB, ~12k files in three layers, plus a layer of whiteouts).
set -euo pipefail

RUNS=${1:-5}
SBX=${SBX:-$PWD/build/sbx}
W=$(mktemp -d "${BENCH_DIR:-/dev/shm}/sbx-bench-import.XXXXXX")
trap 'rm -rf "$W"' EXIT

for tool in hyperfine umoci tar gzip sha256sum; do
	command -v "$tool" >/dev/null || { echo "bench-import: $tool is missing" >&2; exit 1; }
done
[ -x "$SBX" ] || { echo "bench-import: $SBX not built (make)" >&2; exit 1; }

# mk_layout OUT TAG DIR... - an OCI layout with one gzip layer per DIR.
mk_layout() {
	local out=$1 tag=$2 diffs="" layers="" d n=0
	shift 2
	mkdir -p "$out/blobs/sha256"
	for d in "$@"; do
		tar -C "$d" --numeric-owner -cf "$out/l.tar" .
		local diff blob size
		diff=$(sha256sum <"$out/l.tar" | cut -c1-64)
		gzip -n <"$out/l.tar" >"$out/l.tar.gz"
		blob=$(sha256sum <"$out/l.tar.gz" | cut -c1-64)
		size=$(stat -c %s "$out/l.tar.gz")
		mv "$out/l.tar.gz" "$out/blobs/sha256/$blob"
		rm -f "$out/l.tar"
		diffs="$diffs${diffs:+,}\"sha256:$diff\""
		layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$blob\",\"size\":$size}"
		n=$((n + 1))
	done
	blob_json() { # JSON -> prints "hex size", stores the blob
		local hex
		hex=$(printf %s "$1" | sha256sum | cut -c1-64)
		printf %s "$1" >"$out/blobs/sha256/$hex"
		echo "$hex ${#1}"
	}
	local c m
	c=$(blob_json "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/usr/bin:/bin\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diffs]}}")
	m=$(blob_json "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:${c% *}\",\"size\":${c#* }},\"layers\":[$layers]}")
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
		"${m% *}" "${m#* }" "$tag" >"$out/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
}

# Layer sources: three host trees and a layer of whiteouts over them.
mkdir -p "$W/src/wh/usr/include" "$W/src/a/usr/lib" "$W/src/b/usr/share" "$W/src/c/usr"
cp -a /usr/lib/python3.11 "$W/src/a/usr/lib/"
cp -a /usr/share/perl "$W/src/b/usr/share/"
cp -a /usr/include "$W/src/c/usr/"
touch "$W/src/wh/usr/include/.wh.linux" "$W/src/wh/usr/include/.wh..wh..opq"
mk_layout "$W/layout" bench "$W/src/a" "$W/src/b" "$W/src/c" "$W/src/wh"
rm -rf "$W/src"
blobs=$(sed 's/.*"layers":\[//' "$W/layout/blobs/sha256/$(sed 's/.*"digest":"sha256:\([0-9a-f]*\)".*/\1/' "$W/layout/index.json")" |
	grep -o 'sha256:[0-9a-f]*' | cut -c8-)
files=$(for b in $blobs; do tar -tzf "$W/layout/blobs/sha256/$b"; done | wc -l)
bytes=$(du -sb "$W/layout" | cut -f1)

# Same work for all three: every layer into its own directory.
cat >"$W/tar-x.sh" <<TAR
i=0
for b in $(echo $blobs); do
	i=\$((i + 1)); mkdir -p "$W/tarx/\$i"; tar -xzf "$W/layout/blobs/sha256/\$b" -C "$W/tarx/\$i"
done
TAR

hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$W/h.json" \
	-n "sbx image import" --prepare "rm -rf $W/store" \
	"SBX_STORE=$W/store $SBX image import $W/layout --name bench:1 --no-progress" \
	-n "umoci unpack" --prepare "rm -rf $W/bundle" \
	"umoci unpack --image $W/layout:bench $W/bundle" \
	-n "tar -x (bare)" --prepare "rm -rf $W/tarx" \
	"sh $W/tar-x.sh" >&2

echo "Import of a 4-layer OCI image (gzip, $((bytes >> 20)) MiB compressed, $files entries);"
echo "$RUNS runs each, work dir on $(stat -f -c %T "$W"), $(uname -r), $(nproc) cores, $(date -u +%Y-%m-%d)."
echo
echo "| command | mean (ms) | stddev (ms) | vs bare tar |"
echo "|---|---:|---:|---:|"
python3 - "$W/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
tar = [x for x in r if x["command"].startswith("tar")][0]["mean"]
for x in r:
    print("| %s | %.1f | %.1f | %.2fx |" % (x["command"], x["mean"] * 1e3, x["stddev"] * 1e3, x["mean"] / tar))
PY
