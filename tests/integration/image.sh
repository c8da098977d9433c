#!/bin/bash
# image.sh - `sbx image` end to end, as root: images built here with tar,
# gzip and sha256sum (OCI layout, OCI archive, docker-save archive, plain
# rootfs tarball), `umoci unpack` as a second opinion that a layout is valid,
# import, ls/inspect/tag/rm/gc, attacks refused, rootless import, and
# `sbx run --rootfs NAME` on an imported image.  Ends with "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "tests/integration/image.sh must run as root" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
for tool in umoci tar gzip sha256sum python3 setpriv script; do
	command -v "$tool" >/dev/null || { echo "image.sh: $tool missing" >&2; echo "0 passed, 1 failed"; exit 1; }
done
[ -x "$SBX" ] || { echo "no sbx binary at $SBX (run make)" >&2; echo "0 passed, 1 failed"; exit 1; }

img() { "$SBX" image "$@"; }

# lib.sh runs each test as `if (set -e; test_x)`, where bash ignores set -e;
# so assertions also leave a mark that the wrapper checks (see bottom).
fail() {
	echo "    FAIL: $*" >&2
	echo "$*" >>"$WORK/failures"
	return 1
}

# Each test gets its own store.
new_store() {
	export SBX_STORE="$WORK/store-$1"
	rm -rf "$SBX_STORE"
}

# busybox_tree DIR - a tiny root filesystem: busybox, its applets, passwd.
busybox_tree() {
	local r=$1 a
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/home/user"
	cp /bin/busybox "$r/bin/busybox"
	for a in sh id ls cat echo test stat; do ln -sf busybox "$r/bin/$a"; done
	printf 'root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' >"$r/etc/passwd"
	echo base >"$r/etc/motd"
	mkdir -p "$r/opt/old"
	echo old >"$r/opt/old/file"
}

# blob_json OUT JSON - store a JSON blob, print "hex size"
blob_json() {
	local hex
	hex=$(printf %s "$2" | sha256sum | cut -c1-64)
	printf %s "$2" >"$1/blobs/sha256/$hex"
	echo "$hex ${#2}"
}

# mk_layout OUT TAG DIR... - OCI layout, one gzip layer per DIR (bottom first)
mk_layout() {
	local out=$1 tag=$2 diffs="" layers="" d diff blob size c m
	shift 2
	mkdir -p "$out/blobs/sha256"
	for d in "$@"; do
		tar -C "$d" --numeric-owner -cf "$out/l.tar" .
		diff=$(sha256sum <"$out/l.tar" | cut -c1-64)
		gzip -n <"$out/l.tar" >"$out/l.tgz"
		blob=$(sha256sum <"$out/l.tgz" | cut -c1-64)
		size=$(stat -c %s "$out/l.tgz")
		mv "$out/l.tgz" "$out/blobs/sha256/$blob"
		rm -f "$out/l.tar"
		diffs="$diffs${diffs:+,}\"sha256:$diff\""
		layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$blob\",\"size\":$size}"
	done
	c=$(blob_json "$out" "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diffs]}}")
	m=$(blob_json "$out" "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:${c% *}\",\"size\":${c#* }},\"layers\":[$layers]}")
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
		"${m% *}" "${m#* }" "$tag" >"$out/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
	echo "sha256:${m% *}"
}

# Three layers: busybox base; whiteouts of /etc/motd and an opaque /opt/old;
# a file added on top.
three_layers() {
	local w=$1
	busybox_tree "$w/l0"
	mkdir -p "$w/l1/etc" "$w/l1/opt/old" "$w/l2/srv"
	touch "$w/l1/etc/.wh.motd" "$w/l1/opt/old/.wh..wh..opq"
	echo new >"$w/l1/opt/old/newfile"
	echo top >"$w/l2/srv/top"
}

# mk_docker OUT.tar REPOTAG DIR... - docker-save archive (legacy layout)
mk_docker() {
	local out=$1 tag=$2 d=$1.d diffs="" paths="" dir id diff n=0 c
	shift 2
	mkdir -p "$d"
	for dir in "$@"; do
		id=$(echo "layer-$n-$out" | sha256sum | cut -c1-64)
		mkdir -p "$d/$id"
		tar -C "$dir" --numeric-owner -cf "$d/$id/layer.tar" .
		diff=$(sha256sum <"$d/$id/layer.tar" | cut -c1-64)
		diffs="$diffs${diffs:+,}\"sha256:$diff\""
		paths="$paths${paths:+,}\"$id/layer.tar\""
		n=$((n + 1))
	done
	c="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diffs]}}"
	local hex
	hex=$(printf %s "$c" | sha256sum | cut -c1-64)
	printf %s "$c" >"$d/$hex.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' "$hex" "$tag" "$paths" >"$d/manifest.json"
	tar -C "$d" -cf "$out" .
	echo "sha256:$hex"
}

visible() { # STORE snapshot of what import may change
	{ find "$SBX_STORE/layers/sha256" "$SBX_STORE/images/sha256" -mindepth 1 2>/dev/null | sort
	  cat "$SBX_STORE/refs.json" 2>/dev/null; } || true
}

# ---- tests ----

case_tarball_import_ls_inspect() {
	new_store tarball
	busybox_tree "$WORK/bb"
	tar -C "$WORK/bb" --numeric-owner -czf "$WORK/bb.tar.gz" .
	expect_status 0 img import "$WORK/bb.tar.gz" --name busybox:1
	expect_contains "$WORK/out" "imported busybox:1 sha256:"
	expect_status 0 img ls
	expect_contains "$WORK/out" "busybox:1"
	expect_status 0 img inspect busybox:1 --json
	expect_contains "$WORK/out" "\"kind\": \"tarball\""
	expect_contains "$WORK/out" "sha256:$(sha256sum <"$WORK/bb.tar.gz" | cut -c1-64)"
	expect_contains "$WORK/out" "$WORK/bb.tar.gz"
	expect_contains "$WORK/out" "\"imported\""
	# not a terminal: no progress bar
	[ ! -s "$WORK/err" ] || fail "stderr not empty: $(cat "$WORK/err")"
}

case_oci_layout_umoci_agrees() {
	local w=$WORK/oci digest
	new_store oci
	three_layers "$w"
	digest=$(mk_layout "$w/layout" v1 "$w/l0" "$w/l1" "$w/l2")
	# umoci is the second opinion: the layout is valid and whiteouts apply.
	umoci unpack --image "$w/layout:v1" "$w/bundle" >/dev/null 2>&1 || fail "umoci unpack refused the layout"
	[ ! -e "$w/bundle/rootfs/etc/motd" ] || fail "umoci: motd not whited out"
	[ -e "$w/bundle/rootfs/opt/old/newfile" ] && [ ! -e "$w/bundle/rootfs/opt/old/file" ] || fail "umoci: opaque"
	expect_status 0 img import "$w/layout" --name multi:v1
	expect_status 0 img inspect multi:v1
	expect_contains "$WORK/out" "$digest"
	expect_contains "$WORK/out" "Layers (3, bottom first)"
	# what the sandbox sees equals what umoci unpacked
	expect_status 0 "$SBX" run -q --rootfs multi:v1 -- /bin/sh -c \
		'cd / && ls -a etc opt/old srv; test -e /etc/motd && echo MOTD-VISIBLE; cat /srv/top'
	expect_contains "$WORK/out" "newfile"
	expect_contains "$WORK/out" "top"
	expect_not_contains "$WORK/out" "MOTD-VISIBLE"
	(cd "$w/bundle/rootfs" && ls -a etc opt/old srv) >"$w/umoci.ls"
	head -n "$(wc -l <"$w/umoci.ls")" "$WORK/out" >"$w/sbx.ls"
	diff "$w/umoci.ls" "$w/sbx.ls" >&2 || fail "sandbox view differs from umoci's"
}

case_oci_archive_and_docker_archive() {
	local w=$WORK/arch cdig
	new_store arch
	three_layers "$w"
	mk_layout "$w/layout" 2.0 "$w/l0" "$w/l1" "$w/l2" >/dev/null
	tar -C "$w/layout" -cf "$w/app.oci.tar" .
	expect_status 0 img import "$w/app.oci.tar"
	expect_contains "$WORK/out" "imported app:2.0"
	cdig=$(mk_docker "$w/dock.tar" dock:7 "$w/l0" "$w/l1")
	expect_status 0 img import "$w/dock.tar"
	expect_contains "$WORK/out" "imported dock:7 $cdig"
	# both images share the busybox base layer: 3 + 0 new layers
	[ "$(ls "$SBX_STORE/layers/sha256" | wc -l)" = 3 ] || fail "layers not shared"
	expect_status 0 "$SBX" run -q --rootfs dock:7 -- /bin/sh -c 'cat /opt/old/newfile'
	expect_contains "$WORK/out" "new"
}

# docker >= 25 writes the config and the layers as blobs/sha256/<hex>.
case_docker25_archive() {
	local w=$WORK/d25 d=$WORK/d25/tree c hex diff
	new_store d25
	busybox_tree "$w/l0"
	mkdir -p "$d/blobs/sha256"
	tar -C "$w/l0" --numeric-owner -cf "$w/l.tar" .
	diff=$(sha256sum <"$w/l.tar" | cut -c1-64)
	mv "$w/l.tar" "$d/blobs/sha256/$diff"
	c="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$diff\"]}}"
	hex=$(printf %s "$c" | sha256sum | cut -c1-64)
	printf %s "$c" >"$d/blobs/sha256/$hex"
	printf '[{"Config":"blobs/sha256/%s","RepoTags":["d25:1"],"Layers":["blobs/sha256/%s"]}]' "$hex" "$diff" >"$d/manifest.json"
	tar -C "$d" -cf "$w/d25.tar" .
	expect_status 0 img import "$w/d25.tar"
	expect_contains "$WORK/out" "imported d25:1 sha256:$hex"
	# a config whose content does not match its name is refused
	printf ' ' >>"$d/blobs/sha256/$hex"
	tar -C "$d" -cf "$w/bad.tar" .
	expect_status 125 img import "$w/bad.tar" --name bad:1
	expect_contains "$WORK/err" "digest mismatch"
}

case_run_records_image_digest() {
	local digest
	new_store run
	busybox_tree "$WORK/bb"
	tar -C "$WORK/bb" --numeric-owner -cf "$WORK/bb.tar" .
	img import "$WORK/bb.tar" --name bb >/dev/null
	digest=$(img inspect bb --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
	expect_status 0 "$SBX" run -q --rootfs bb --json "$WORK/r.json" -- /bin/sh -c 'id -u; echo hi'
	expect_contains "$WORK/out" "hi"
	expect_contains "$WORK/r.json" "$digest"
}

case_attacks_refused_store_unchanged() {
	local before
	new_store attacks
	busybox_tree "$WORK/bb"
	tar -C "$WORK/bb" -cf "$WORK/bb.tar" .
	img import "$WORK/bb.tar" --name good >/dev/null
	python3 - "$WORK" <<'PY'
import io, sys, tarfile
w = sys.argv[1]
def mk(name, entries):
    with tarfile.open(f"{w}/{name}.tar", "w") as t:
        for kind, path, extra in entries:
            i = tarfile.TarInfo(path)
            if kind == "f":
                i.size = len(extra); t.addfile(i, io.BytesIO(extra))
            elif kind == "l":
                i.type = tarfile.SYMTYPE; i.linkname = extra; t.addfile(i)
            elif kind == "h":
                i.type = tarfile.LNKTYPE; i.linkname = extra; t.addfile(i)
mk("dotdot", [("f", "../../etc/evil", b"x")])
mk("abs", [("f", "/etc/evil", b"x")])
mk("symlink", [("l", "etc", "/etc"), ("f", "etc/cron.d/evil", b"x")])
mk("hardlink", [("h", "shadow", "../../etc/shadow")])
PY
	before=$(visible)
	expect_status 125 img import "$WORK/dotdot.tar" --name evil
	expect_contains "$WORK/err" "entry \`../../etc/evil\`: \`..\` component"
	expect_status 125 img import "$WORK/abs.tar" --name evil
	expect_contains "$WORK/err" "absolute path"
	expect_status 125 img import "$WORK/symlink.tar" --name evil
	expect_contains "$WORK/err" "entry \`etc/cron.d/evil\`: \`etc\` is a symlink"
	expect_status 125 img import "$WORK/hardlink.tar" --name evil
	expect_contains "$WORK/err" "points outside the layer"
	[ "$(wc -l <"$WORK/err")" = 1 ] || fail "error is not one line"
	[ "$before" = "$(visible)" ] || fail "store changed"
	[ ! -e /etc/evil ] && [ ! -e /etc/cron.d/evil ] || fail "escaped onto the host"
	[ -z "$(ls "$SBX_STORE/tmp")" ] || fail "tmp debris after refusals"
}

case_digest_mismatch_and_truncation() {
	local w=$WORK/bad blob before
	new_store bad
	three_layers "$w"
	mk_layout "$w/layout" v1 "$w/l0" "$w/l1" >/dev/null
	before=$(visible)
	blob=$(ls -S "$w/layout/blobs/sha256" | head -1) # the busybox layer
	printf 'X' | dd of="$w/layout/blobs/sha256/$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
	expect_status 125 img import "$w/layout" --name bad
	expect_contains "$WORK/err" "layer sha256:${blob:0:12}"
	head -c 100000 /bin/busybox | gzip >"$w/trunc.tar.gz"
	expect_status 125 img import "$w/trunc.tar.gz" --name trunc
	[ "$before" = "$(visible)" ] || fail "store changed"
}

case_tag_rm_gc() {
	new_store tag
	busybox_tree "$WORK/bb"
	tar -C "$WORK/bb" -cf "$WORK/bb.tar" .
	img import "$WORK/bb.tar" --name one >/dev/null
	expect_status 0 img tag one two:x
	expect_status 0 img ls
	expect_contains "$WORK/out" "one:latest"
	expect_contains "$WORK/out" "two:x"
	expect_status 0 img rm one
	expect_not_contains "$WORK/out" "deleted"
	expect_status 0 img rm two:x
	expect_contains "$WORK/out" "deleted sha256:"
	[ -z "$(ls "$SBX_STORE/layers/sha256")" ] || fail "layer not reclaimed"
	mkdir -p "$SBX_STORE/tmp/import-debris/x"
	expect_status 0 img gc
	expect_contains "$WORK/out" "removed 1 work directories"
	expect_status 125 img inspect one
	expect_contains "$WORK/err" "not found"
}

case_rootless_import_makes_whiteouts() {
	local w=$WORK/rl
	new_store rootless
	three_layers "$w"
	mk_layout "$w/layout" v1 "$w/l0" "$w/l1" "$w/l2" >/dev/null
	chmod -R a+rX "$w"
	# The store root must belong to the importing user (case_store_root_must_be_private).
	mkdir -m 755 "$SBX_STORE"
	chown 65534:65534 "$SBX_STORE"
	setpriv --reuid=65534 --regid=65534 --clear-groups env SBX_STORE="$SBX_STORE" \
		"$SBX" image import "$w/layout" --name rl:v1 >"$WORK/out" 2>"$WORK/err" ||
		fail "rootless import: $(cat "$WORK/err")"
	find "$SBX_STORE/layers" -name motd -type c | grep -q . || fail "no whiteout char device"
	python3 - "$SBX_STORE/layers/sha256" <<'PY' || fail "no opaque xattr on opt/old"
import os, sys
d = sys.argv[1]
sys.exit(0 if any(os.path.isdir(f"{d}/{l}/opt/old") and
                  os.getxattr(f"{d}/{l}/opt/old", "user.overlay.opaque", follow_symlinks=False) == b"y"
                  for l in os.listdir(d) if os.path.exists(f"{d}/{l}/opt/old/newfile")) else 1)
PY
}

# Whoever can write the store root can plant layers and refs: a root that
# is writable by others, belongs to another uid or is a symlink is refused,
# and nothing is created in it.
case_store_root_must_be_private() {
	local w=$WORK/priv
	mkdir -p "$w"
	busybox_tree "$w/bb"
	tar -C "$w/bb" --numeric-owner -cf "$w/bb.tar" .
	new_store open
	mkdir -m 777 "$SBX_STORE"
	expect_status 125 img import "$w/bb.tar" --name bb
	expect_contains "$WORK/err" "image store \`$SBX_STORE\` is not a directory owned by uid 0"
	expect_contains "$WORK/err" "mode is 0777"
	expect_status 125 img ls
	expect_contains "$WORK/err" "$SBX_STORE"
	expect_status 125 "$SBX" run -q --rootfs bb -- /bin/true
	expect_contains "$WORK/err" "$SBX_STORE"
	[ -z "$(ls -A "$SBX_STORE")" ] || fail "created in a refused store: $(ls -A "$SBX_STORE")"
	chmod 755 "$SBX_STORE"
	chown 65534:65534 "$SBX_STORE"
	expect_status 125 img import "$w/bb.tar" --name bb
	expect_contains "$WORK/err" "belongs to uid 65534"
	[ -z "$(ls -A "$SBX_STORE")" ] || fail "created in a store of another uid"
	# a symlink to a good directory is refused too
	new_store link
	mkdir -m 755 "$w/real"
	ln -s "$w/real" "$SBX_STORE"
	expect_status 125 img import "$w/bb.tar" --name bb
	expect_contains "$WORK/err" "image store \`$SBX_STORE\`"
	expect_contains "$WORK/err" "is a symlink"
	expect_status 125 img ls
	[ -z "$(ls -A "$w/real")" ] || fail "created through the symlink: $(ls -A "$w/real")"
	# a store root created by sbx passes the check, whatever the umask
	new_store fresh
	(umask 000 && "$SBX" image import "$w/bb.tar" --name bb >"$WORK/out" 2>"$WORK/err") ||
		fail "import into a new store: $(cat "$WORK/err")"
	[ "$(stat -c %a "$SBX_STORE")" = 755 ] || fail "new store root mode $(stat -c %a "$SBX_STORE")"
	expect_status 0 img ls
	expect_contains "$WORK/out" "bb:latest"
}

# A legacy docker-save layer (`<id>/layer.tar`) is named by no digest but its
# diff-id: when that layer is in the store already, the archive's copy is
# still hashed, and an archive whose layer.tar does not match is refused.
case_docker_stored_layer_rehashed() {
	local w=$WORK/rehash before ls_before id
	new_store rehash
	mkdir -p "$w/l0/etc" "$w/l1/srv"
	echo original-content >"$w/l0/etc/data"
	echo top >"$w/l1/srv/top"
	mk_docker "$w/dock.tar" dock:1 "$w/l0" "$w/l1" >/dev/null
	expect_status 0 img import "$w/dock.tar"
	# The same config and diff_ids, one byte of a file changed in the
	# bottom layer.tar (the tar stays valid: only file content changes).
	cp -a "$w/dock.tar.d" "$w/forged.d"
	id=$(echo "layer-0-$w/dock.tar" | sha256sum | cut -c1-64)
	python3 - "$w/forged.d/$id/layer.tar" <<'PY'
import sys
p = sys.argv[1]
data = bytearray(open(p, "rb").read())
i = data.index(b"original-content\n")
data[i] = ord("O")
open(p, "wb").write(data)
PY
	tar -C "$w/forged.d" -cf "$w/forged.tar" .
	before=$(visible)
	ls_before=$(img ls)
	expect_status 125 img import "$w/forged.tar" --name forged:1
	expect_contains "$WORK/err" "layer sha256:"
	expect_contains "$WORK/err" "$id/layer.tar"
	expect_contains "$WORK/err" "diff-id mismatch"
	[ "$(wc -l <"$WORK/err")" = 1 ] || fail "error is not one line"
	[ "$before" = "$(visible)" ] || fail "store changed"
	[ "$ls_before" = "$(img ls)" ] || fail "image list changed"
	[ -z "$(ls "$SBX_STORE/tmp")" ] || fail "tmp debris after the refusal"
	expect_status 125 img inspect forged:1
	# the same archive under the original name: refused as well
	expect_status 125 img import "$w/forged.tar"
	expect_contains "$WORK/err" "diff-id mismatch"
	[ "$before" = "$(visible)" ] || fail "store changed"
}

case_progress_bar_on_a_terminal() {
	new_store progress
	busybox_tree "$WORK/bb"
	tar -C "$WORK/bb" -czf "$WORK/bb.tar.gz" .
	script -qec "$SBX image import $WORK/bb.tar.gz --name p" /dev/null >"$WORK/tty" 2>&1 || fail "import on a tty"
	expect_contains "$WORK/tty" "importing ["
	expect_contains "$WORK/tty" "imported p:latest"
}

# More layers than fit in a mount option string as full store paths: the
# runtime links them under short names (runtime/rootfs.c).
case_three_hundred_layers() {
	local w=$WORK/many i dirs=()
	new_store many
	busybox_tree "$w/base"
	dirs+=("$w/base")
	for i in $(seq 1 299); do
		mkdir -p "$w/d$i/layers"
		echo "$i" >"$w/d$i/layers/$i"
		dirs+=("$w/d$i")
	done
	mk_layout "$w/oci" many "${dirs[@]}" >/dev/null
	expect_status 0 img import "$w/oci" --name many:300
	expect_status 0 "$SBX" run -q -r many:300 -- sh -c 'cat /layers/1 /layers/150 /layers/299; ls /layers | wc -l'
	[ "$(tr '\n' ' ' <"$WORK/out")" = "1 150 299 299 " ] || fail "got: $(tr '\n' ' ' <"$WORK/out")"
}

# A sandbox running on an image holds the store: gc must not prune the
# layers under it, and works again once it is gone.
case_gc_waits_for_running_sandbox() {
	local w=$WORK/hold pid
	new_store hold
	busybox_tree "$w/root"
	tar -C "$w/root" -cf "$w/root.tar" .
	expect_status 0 img import "$w/root.tar" --name held
	"$SBX" run -q -r held -- sh -c 'sleep 2; cat /etc/motd' >"$w/out" 2>&1 &
	pid=$!
	sleep 0.7
	expect_status 125 img gc
	expect_contains "$WORK/err" "in use by an import or a running sandbox"
	wait $pid || fail "the sandbox failed: $(cat "$w/out")"
	expect_contains "$w/out" base
	expect_status 0 img rm held
	expect_status 0 img gc
	[ -z "$(ls "$SBX_STORE/layers/sha256")" ] || fail "layers not reclaimed after the sandbox ended"
}

case_help_texts() {
	local c
	for c in import ls inspect rm tag gc; do
		expect_status 0 img "$c" --help
		expect_contains "$WORK/out" "Usage: sbx image $c"
	done
	expect_status 125 img frobnicate
	expect_contains "$WORK/err" "sbx: image: unknown command"
}

# test_X runs case_X and fails if any assertion failed, whatever set -e did.
for c in $(declare -F | awk '{print $3}' | grep '^case_'); do
	eval "test_${c#case_}() { rm -f \"\$WORK/failures\"; $c; [ ! -s \"\$WORK/failures\" ]; }"
done

run_tests
