#!/bin/sh
# install-deps.sh [--test] [--bench] - install what sbx needs on Debian 12.
#   (no flag)  build dependencies and what `sbx run` uses at run time
#   --test     + what `make check` needs (VM tier, test peers and inputs)
#   --bench    + the peers `make bench` compares against
set -eu

BUILD="build-essential pkg-config libseccomp-dev libcap-dev libnl-3-dev libnl-route-3-dev \
libyaml-dev libjansson-dev libarchive-dev python3"
TEST="check libsubunit-dev busybox-static qemu-system-x86 linux-image-amd64 cpio xz-utils \
umoci runc golang-github-containers-common zstd procps util-linux iproute2"
BENCH="bubblewrap runc hyperfine busybox-static"

pkgs=$BUILD
for a in "$@"; do
	case $a in
	--test) pkgs="$pkgs $TEST" ;;
	--bench) pkgs="$pkgs $BENCH" ;;
	*)
		echo "install-deps.sh: unknown option \`$a\` (use --test, --bench)" >&2
		exit 2
		;;
	esac
done

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root (apt-get install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q $pkgs
