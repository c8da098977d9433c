#!/usr/bin/env bash
# VM test tier: the cgroup v2 limits (memory, pids, cpu) need a kernel whose
# cgroup2 hierarchy owns those controllers, which hybrid-cgroup hosts do not
# give.  Boot Debian's kernel under qemu (TCG) with an initramfs of
# busybox-static, the built sbx and tests/vm, and pass only when the serial
# console shows the final line "N passed, 0 failed" with N > 0.
#
#   bash tests/vm/run.sh               build the initramfs, boot, run all tests
#   SBX_VM_ONLY="oom cpu" ...          run only these tests (see tests.sh)
#   SBX_VM_SHELL=1 ...                 boot to an interactive shell instead
#   SBX_VM_KERNEL=/boot/vmlinuz-X ...  another kernel (modules from /lib/modules/X)
#   SBX_VM_TIMEOUT=300                 seconds before the VM is killed
#   SBX_VM_LOG=build/vm/console.log    where the whole console goes
#   SBX_VM_BUILD=build                 where sbx was built
#   SBX_VM_KEEP=1                      keep the work directory (initramfs, tree)
#
# Anything missing (qemu, kernel, modules, busybox-static, the build) is a
# failure, never a skip: CI must not pass a tier that did not run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
vmdir=$root/tests/vm
build=${SBX_VM_BUILD:-$root/build}
timeout_s=${SBX_VM_TIMEOUT:-300}
log=${SBX_VM_LOG:-$build/vm/console.log}
# Modules the sandboxes need that Debian builds as modules.
modules=(overlay veth)

die() {
        printf 'tests/vm: FAIL: %s\n' "$*" >&2
        exit 1
}

need() { # need COMMAND PACKAGE
        command -v "$1" >/dev/null 2>&1 || die "$1 not found (Debian package $2)"
}

need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need gzip gzip
need ldd libc-bin
need timeout coreutils

# The newest Debian kernel that has its modules installed, unless told.
find_kernel() {
        local k
        if [[ -n ${SBX_VM_KERNEL:-} ]]; then
                echo "$SBX_VM_KERNEL"
                return
        fi
        for k in $(printf '%s\n' /boot/vmlinuz-*-amd64 | sort -rV); do
                if [[ -f $k && -f /lib/modules/${k#/boot/vmlinuz-}/modules.dep ]]; then
                        echo "$k"
                        return
                fi
        done
        die "no /boot/vmlinuz-*-amd64 with modules in /lib/modules (Debian package linux-image-amd64)"
}
kernel=$(find_kernel)
[[ -r $kernel ]] || die "kernel $kernel not readable"
kver=${kernel##*/vmlinuz-}
moddir=/lib/modules/$kver
[[ -f $moddir/modules.dep ]] || die "$moddir/modules.dep missing (modules of $kernel not installed)"

# Debian's busybox package is dynamic; the initramfs has no libc for it.
busybox=
for b in /bin/busybox /usr/bin/busybox; do
        [[ -x $b ]] && busybox=$b && break
done
[[ -n $busybox ]] || die "busybox not found (Debian package busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
        die "$busybox is dynamically linked (install Debian package busybox-static)"
fi

for b in sbx; do
        [[ -x $build/$b ]] || die "$build/$b missing: run 'make all' first"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sbx-vm.XXXXXX")
if [[ -n ${SBX_VM_KEEP:-} ]]; then
        echo "tests/vm: work directory kept: $work"
else
        trap 'rm -rf "$work"' EXIT
fi
stage=$work/initramfs

# install_busybox DIR: busybox and one symlink per applet, where each applet
# usually lives.
install_busybox() {
        local dir=$1 a
        mkdir -p "$dir/bin" "$dir/sbin" "$dir/usr/bin" "$dir/usr/sbin"
        cp "$busybox" "$dir/bin/busybox"
        for a in $("$busybox" --list-full); do
                [[ $a == bin/busybox || -e $dir/$a ]] && continue
                ln -s /bin/busybox "$dir/$a"
        done
}

# install_elf FILE DEST: an executable at DEST plus the shared objects it
# needs (and the dynamic loader) at their own paths.
install_elf() {
        local lib
        install -D -m 0755 "$1" "$stage/$2"
        # A static binary makes ldd fail: then there is nothing to add.
        for lib in $(ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
                [[ -e $stage$lib ]] || cp -L --parents "$lib" "$stage"
        done
}

# module_file NAME: path of a module relative to $moddir, from modules.dep.
module_file() {
        awk -F: -v n="$1" -v u="${1//-/_}" '{ f = $1; sub(/.*\//, "", f); sub(/\.ko(\.(xz|zst|gz))?$/, "", f) }
                f == n || f == u { print $1; exit }' "$moddir/modules.dep"
}

# install_module RELPATH: a module (its dependencies first) into the initramfs,
# decompressed because busybox insmod may not read compressed modules; its
# path is appended to the load order that /init follows.
install_module() {
        local rel=$1 dep dst
        dst=/lib/modules/$kver/${rel%.xz}
        dst=${dst%.zst}
        dst=${dst%.gz}
        grep -qxF "$dst" "$stage/lib/modules/sbx-vm.order" 2>/dev/null && return
        local -a deps=()
        read -ra deps < <(awk -F: -v m="$rel" '$1 == m { print $2 }' "$moddir/modules.dep")
        for dep in "${deps[@]}"; do
                install_module "$dep"
        done
        mkdir -p "$(dirname "$stage$dst")"
        case $rel in
        *.xz) xz -dc "$moddir/$rel" >"$stage$dst" ;;
        *.zst) zstd -qdc "$moddir/$rel" >"$stage$dst" ;;
        *.gz) gzip -dc "$moddir/$rel" >"$stage$dst" ;;
        *) cp "$moddir/$rel" "$stage$dst" ;;
        esac
        echo "$dst" >>"$stage/lib/modules/sbx-vm.order"
}

# The VM's own system.
mkdir -p "$stage"/{dev,proc,sys,tmp,newroot,root,etc,lib/modules}
chmod 1777 "$stage/tmp"
install_busybox "$stage"
install -m 0755 "$vmdir/init" "$stage/init"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
: >"$stage/lib/modules/sbx-vm.order"
for m in "${modules[@]}"; do
        rel=$(module_file "$m")
        [[ -n $rel ]] || die "module $m not in $moddir/modules.dep"
        install_module "$rel"
done
install_elf "$build/sbx" /usr/local/bin/sbx
mkdir -p "$stage/tests"
install -m 0755 "$vmdir/tests.sh" "$stage/tests/tests.sh"
cp -r "$vmdir/policies" "$stage/tests/policies"

# The sandboxes' root filesystem: busybox, the sandbox user, the helpers.
rootfs=$stage/rootfs
install_busybox "$rootfs"
mkdir -p "$rootfs"/{dev,proc,sys,tmp,etc,root,home/user,usr/local/bin}
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
install -m 0755 "$vmdir"/sandbox-bin/* "$rootfs/usr/local/bin/"

# boot_image: the kernel file qemu boots.  The bzImage decompresses itself,
# which takes about 5 s under TCG; its ELF vmlinux, booted through PVH, skips
# that.  Debian compresses the payload with xz; anything else boots as is.
boot_image() {
        local off
        if grep -qx 'CONFIG_PVH=y' "/boot/config-$kver" 2>/dev/null && command -v xz >/dev/null; then
                while IFS=: read -r off _; do
                        # The stream is followed by the rest of the bzImage,
                        # which xz calls garbage: judge by the output.
                        tail -c +$((off + 1)) "$kernel" | xz -dcq >"$work/vmlinux" 2>/dev/null || true
                        if cmp -s -n 4 <(printf '\177ELF') "$work/vmlinux"; then
                                echo "$work/vmlinux"
                                return
                        fi
                done < <(LC_ALL=C grep -abo $'\xfd''7zXZ' "$kernel" || true)
                rm -f "$work/vmlinux"
        fi
        echo "$kernel"
}
image=$(boot_image)

initrd=$work/initramfs.cpio.gz
(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) |
        gzip -1 >"$initrd"
echo "tests/vm: kernel $kernel (booting $([[ $image == "$kernel" ]] && echo it || echo its vmlinux via PVH))," \
        "initramfs $(du -k "$initrd" | cut -f1) KiB"

append="console=ttyS0 panic=-1 quiet"
if [[ -n ${SBX_VM_ONLY:-} ]]; then
        only=${SBX_VM_ONLY//[ ,]/,}
        append+=" sbx.only=$only"
fi
qemu=(qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2
        -nodefaults -no-user-config -display none -no-reboot
        -kernel "$image" -initrd "$initrd")

if [[ -n ${SBX_VM_SHELL:-} ]]; then
        echo "tests/vm: shell mode; quit qemu with Ctrl-A x"
        exec "${qemu[@]}" -serial mon:stdio -append "$append sbx.shell=1"
fi

mkdir -p "$(dirname "$log")"
echo "tests/vm: booting (timeout ${timeout_s}s, console in $log)"
t0=$SECONDS
set +e
timeout -k 10 "$timeout_s" "${qemu[@]}" -serial stdio -append "$append" </dev/null 2>&1 |
        tr -d '\r' | tee "$log" |
        grep --line-buffered -E '^(PASS|FAIL|INFO|sbx-vm:) |^[0-9]+ passed, [0-9]+ failed$|Kernel panic'
status=("${PIPESTATUS[@]}")
set -e
echo "tests/vm: VM ran $((SECONDS - t0)) s"

final=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
if [[ -z $final ]]; then
        echo "tests/vm: last console lines:" >&2
        tail -n 40 "$log" >&2
        if [[ ${status[0]} == 124 ]]; then
                die "the VM did not finish within ${timeout_s}s (no result line)"
        fi
        die "the VM ended without a result line (qemu exit status ${status[0]})"
fi
read -r passed _ failed _ <<<"$final"
if ((failed != 0 || passed == 0)); then
        die "$final"
fi
echo "tests/vm: OK: $final"
