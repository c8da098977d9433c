#!/bin/bash
# Integration tests: real sandboxes, as root, each asserting an observable
# effect.  Run by `make check` (check-integration).  ONLY=substring runs a subset.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "tests/integration/run.sh must run as root (the rootless cases are in rootless.sh)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
[ -x "$SBX" ] || { echo "no sbx binary at $SBX (run make)" >&2; echo "0 passed, 1 failed"; exit 1; }

run() { "$SBX" run -q "$@"; }
POLICIES=$(cd "$(dirname "$0")" && pwd)/policies

# A tiny busybox root filesystem for the --rootfs cases.
make_busybox_rootfs() {
	local r=$1
	mkdir -p "$r/bin" "$r/etc" "$r/tmp"
	cp /bin/busybox "$r/bin/busybox"
	for a in sh id ls cat echo touch mkdir sleep true false; do ln -sf busybox "$r/bin/$a"; done
	printf 'root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' >"$r/etc/passwd"
}

# ---- basics: exit status, signals, output ----

test_true_runs() {
	expect_status 0 run -- /bin/true
}

test_exit_code_propagates() {
	expect_status 7 run -- sh -c 'exit 7'
}

test_signal_propagates() {
	expect_status 143 run -- sh -c 'kill -TERM $$'
	expect_status 137 run -- sh -c 'kill -KILL $$'
}

test_command_not_found() {
	expect_status 127 "$SBX" run -- /nonexistent/cmd
	expect_contains "$WORK/err" "command not found"
}

test_ten_megabytes_of_output() {
	local n
	n=$("$SBX" run -q -- sh -c 'head -c 10000000 /dev/zero' | wc -c)
	[ "$n" = 10000000 ] || fail "got $n bytes"
}

test_stdin_reaches_command() {
	local out
	out=$(echo hello-stdin | "$SBX" run -q -- cat)
	[ "$out" = hello-stdin ] || fail "got $out"
}

# ---- identity, privileges ----

test_runs_as_sandbox_user() {
	expect_status 0 run -- sh -c 'id -u; id -un; echo $HOME; pwd'
	[ "$(sed -n 1p "$WORK/out")" = 1000 ] || fail "uid $(sed -n 1p "$WORK/out")"
	[ "$(sed -n 2p "$WORK/out")" = user ] || fail "user $(sed -n 2p "$WORK/out")"
	[ "$(sed -n 3p "$WORK/out")" = /home/user ] || fail "home"
	[ "$(sed -n 4p "$WORK/out")" = /home/user ] || fail "cwd"
}

test_no_capabilities_nnp_seccomp() {
	expect_status 0 run -- cat /proc/self/status
	expect_contains "$WORK/out" "CapEff:	0000000000000000"
	expect_contains "$WORK/out" "CapPrm:	0000000000000000"
	expect_contains "$WORK/out" "CapBnd:	0000000000000000"
	expect_contains "$WORK/out" "CapAmb:	0000000000000000"
	expect_contains "$WORK/out" "NoNewPrivs:	1"
	expect_contains "$WORK/out" "Seccomp:	2"
}

test_root_inside_is_unprivileged_outside() {
	# The sandbox's processes run as host uids of the unprivileged range.
	"$SBX" run -q -- sleep 3 &
	local pid=$! uid
	sleep 1
	uid=$(ps -eo uid=,args= | awk '$2 == "sleep" && $3 == "3" { print $1; exit }')
	wait $pid
	[ -n "$uid" ] || fail "sleep not found"
	[ "$uid" -ge 2113929216 ] || fail "sandbox process runs as host uid $uid"
}

test_setuid_binary_gives_nothing() {
	local r=$WORK/suidroot
	make_busybox_rootfs "$r"
	cp /bin/busybox "$r/bin/busybox-suid"
	chown 2113929216:2113929216 "$r/bin/busybox-suid" # root inside the sandbox
	chmod 4755 "$r/bin/busybox-suid"
	expect_status 0 run -r "$r" -- /bin/busybox-suid id -u
	[ "$(cat "$WORK/out")" = 1000 ] || fail "setuid binary ran as uid $(cat "$WORK/out")"
}

test_environment_is_clean() {
	SBX_SECRET=leak expect_status 0 run -e GREETING=hi -- sh -c 'env'
	expect_not_contains "$WORK/out" SBX_SECRET
	expect_contains "$WORK/out" GREETING=hi
	expect_contains "$WORK/out" HOME=/home/user
}

test_no_inherited_fds() {
	exec 7</etc/hostname
	expect_status 0 run -- sh -c 'ls /proc/self/fd'
	exec 7<&-
	[ "$(sort -n "$WORK/out" | tr '\n' ' ')" = "0 1 2 3 " ] || fail "fds: $(tr '\n' ' ' <"$WORK/out")"
}

test_new_session_no_tiocsti() {
	expect_status 0 run -- python3 -c '
import os, fcntl, termios, errno
assert os.getsid(0) == os.getpid() or os.getsid(0) != os.getppid(), "no new session"
try:
    fcntl.ioctl(0, termios.TIOCSTI, b"x")
    print("TIOCSTI allowed")
except OSError as e:
    print("denied", errno.errorcode[e.errno])
'
	expect_contains "$WORK/out" "denied EPERM"
}

# ---- kernel surfaces ----

test_mount_denied() {
	expect_status 0 run -- sh -c 'mount -t tmpfs none /tmp 2>&1 && echo MOUNTED || echo refused'
	expect_contains "$WORK/out" refused
}

test_unshare_user_denied() {
	expect_status 0 run -- sh -c 'unshare -U true 2>&1 && echo UNSHARED || echo refused'
	expect_contains "$WORK/out" refused
}

syscall_probe() { # python snippet: call syscall NR with args, print errno name or ok
	cat <<PY
import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall($1)
print("ok" if r >= 0 else errno.errorcode[ctypes.get_errno()])
PY
}

test_ptrace_denied() {
	expect_status 0 run -- python3 -c "$(syscall_probe '101, 0, 0, 0, 0')" # ptrace(PTRACE_TRACEME)
	expect_contains "$WORK/out" EPERM
}

test_module_load_denied() {
	expect_status 0 run -- python3 -c "$(syscall_probe '313, 0, b"", 0')" # finit_module
	expect_contains "$WORK/out" EPERM
	expect_status 0 run -- python3 -c "$(syscall_probe '175, 0, 0, b""')" # init_module
	expect_contains "$WORK/out" EPERM
}

test_bpf_and_perf_denied() {
	expect_status 0 run -- python3 -c "$(syscall_probe '321, 0, 0, 0')" # bpf
	expect_contains "$WORK/out" EPERM
	expect_status 0 run -- python3 -c "$(syscall_probe '298, 0, 0, -1, -1, 0')" # perf_event_open
	expect_contains "$WORK/out" EPERM
}

test_x32_syscall_refused() {
	# getpid through the x32 entry point (nr | 0x40000000): killed or denied,
	# never executed.
	set +e
	"$SBX" run -q -- python3 -c "$(syscall_probe '0x40000000 | 39')" >"$WORK/out" 2>&1
	local st=$?
	set -e
	if [ $st = 0 ]; then
		expect_not_contains "$WORK/out" ok
	else
		[ $st = 159 ] || fail "status $st (expected SIGSYS, 159, or a denial)"
	fi
}

test_i386_syscall_refused() {
	# int 0x80 enters the i386 table; the filter must not let it through.
	cat >"$WORK/int80.c" <<'C'
int main(void)
{
	long r;
	/* i386 getpid is 20 */
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
	return r > 0 ? 0 : 3;
}
C
	cc -O0 -static -o "$WORK/int80" "$WORK/int80.c"
	chmod 755 "$WORK/int80"
	set +e
	"$SBX" run -q -r "$WORK" -- /int80 >/dev/null 2>&1
	local st=$?
	set -e
	[ $st != 0 ] || fail "i386 getpid succeeded inside the sandbox"
}

# ---- pid, network ----

test_init_and_runtime_binary_out_of_reach() {
	# Even root inside can not read init's memory or exe, nor write the sbx
	# binary through /proc/1/exe (the runc CVE-2019-5736 path).
	local before
	before=$(sha256sum "$SBX" | cut -d' ' -f1)
	expect_status 0 run -p "$POLICIES/root-inside.yaml" -- sh -c '
		cat /proc/1/exe >/dev/null 2>&1 && echo EXE-READ || echo exe-refused
		head -c 1 /proc/1/mem >/dev/null 2>&1 && echo MEM-READ || echo mem-refused
		ls /proc/1/fd >/dev/null 2>&1 && echo FD-LISTED || echo fd-refused
		echo x >>/proc/1/exe 2>/dev/null && echo EXE-WRITTEN || echo write-refused'
	expect_contains "$WORK/out" exe-refused
	expect_contains "$WORK/out" mem-refused
	expect_contains "$WORK/out" fd-refused
	expect_contains "$WORK/out" write-refused
	[ "$(sha256sum "$SBX" | cut -d' ' -f1)" = "$before" ] || fail "the sbx binary changed"
}

test_host_processes_invisible() {
	expect_status 0 run -- sh -c 'ls /proc | grep -c "^[0-9]"; cat /proc/1/cmdline | tr "\0" " "'
	local n
	n=$(sed -n 1p "$WORK/out")
	[ "$n" -le 4 ] || fail "$n processes visible"
	[ -e /proc/$$ ] || fail "harness pid vanished?"
	expect_status 1 run -- test -e /proc/$$/status
}

test_only_loopback() {
	expect_status 0 run -- sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
	[ "$(cat "$WORK/out")" = lo ] || fail "interfaces: $(cat "$WORK/out")"
	# sysfs shows the network namespace of the task that mounted it: init
	# must have entered the sandbox's before mounting /sys
	expect_status 0 run -- ls /sys/class/net
	[ "$(cat "$WORK/out")" = lo ] || fail "/sys/class/net: $(cat "$WORK/out")"
}

test_init_and_command_share_one_new_netns() {
	# init makes the network namespace on a thread and joins it: init
	# and the command must both be in it, and it is not the host's
	"$SBX" run -q -- sleep 1004 </dev/null >/dev/null 2>&1 &
	local spid=$! cmd="" init host_ns init_ns cmd_ns
	for _ in $(seq 50); do
		cmd=$(pgrep -f '^sleep 1004$' || true)
		[ -n "$cmd" ] && break
		sleep 0.1
	done
	[ -n "$cmd" ] || fail "sandbox did not start"
	init=$(awk '{ print $4 }' "/proc/$cmd/stat")
	[ "$(cat "/proc/$init/comm")" = sbx-init ] || fail "the command's parent is not init"
	host_ns=$(readlink /proc/self/ns/net)
	init_ns=$(readlink "/proc/$init/ns/net")
	cmd_ns=$(readlink "/proc/$cmd/ns/net")
	kill -TERM "$spid"
	wait "$spid" 2>/dev/null || true
	[ "$init_ns" = "$cmd_ns" ] || fail "init in $init_ns, the command in $cmd_ns"
	[ "$cmd_ns" != "$host_ns" ] || fail "the command is in the host's network namespace"
}

# sbx_under_denial SYSCALL ARGS...: run sbx under a filter that answers
# SYSCALL with EPERM (inherited by the sandbox's init); output in $WORK
sbx_under_denial() {
	local denied=$1
	shift
	python3 - "$denied" "$SBX" "$@" >"$WORK/out" 2>"$WORK/err" <<'PY'
import ctypes, errno, os, sys
lib = ctypes.CDLL("libseccomp.so.2")
lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
lib.seccomp_load.argtypes = [ctypes.c_void_p]
ctx = lib.seccomp_init(0x7FFF0000)  # SCMP_ACT_ALLOW
nr = lib.seccomp_syscall_resolve_name(sys.argv[1].encode())
assert ctx and nr >= 0
assert lib.seccomp_rule_add(ctx, 0x00050000 | errno.EPERM, nr, 0) == 0  # SCMP_ACT_ERRNO
assert lib.seccomp_load(ctx) == 0
os.execv(sys.argv[2], sys.argv[2:])
PY
}

# expect_denial_fails_run SYSCALL TEXT: with SYSCALL refused, a run fails
# with 125 and TEXT, and its command never runs
expect_denial_fails_run() {
	set +e
	sbx_under_denial "$1" run -- sh -c 'echo RAN; cat /proc/net/dev'
	local rc=$?
	set -e
	[ "$rc" = 125 ] || fail "status $rc with $1 refused"
	expect_not_contains "$WORK/out" RAN
	expect_contains "$WORK/err" "$2"
}

test_network_namespace_failure_fails_closed() {
	# When the kernel refuses the network namespace, the run must fail,
	# never run the command in the host's network.  unshare(2) is called
	# only by the thread of init making that namespace.
	expect_denial_fails_run unshare "create the network namespace"
}

test_loopback_failure_fails_the_run() {
	# lo comes up on that thread while init goes on: its failure (no
	# netlink socket: socket(2) is called by nothing else in a default
	# run) must still fail the run before the command exists
	expect_denial_fails_run socket "loopback"
}

test_signals_ignored_by_the_caller_are_reset() {
	# A caller that ignores SIGCHLD, SIGUSR1, a real-time signal and 32,
	# one libc keeps for itself: the command gets none of them ignored,
	# and its status still comes back (an ignored SIGCHLD lets the kernel
	# reap children unseen)
	set +e
	timeout -k 5 30 python3 - "$SBX" run -- sh -c 'grep SigIgn /proc/self/status; exit 3' \
		>"$WORK/out" 2>"$WORK/err" <<'PY'
import ctypes, os, signal, sys
for s in (signal.SIGCHLD, signal.SIGUSR1, signal.SIGRTMIN + 2):
    signal.signal(s, signal.SIG_IGN)
# struct sigaction of the kernel: handler SIG_IGN (1), no flags, no mask
act = (ctypes.c_ulong * 4)(1, 0, 0, 0)
assert ctypes.CDLL(None, use_errno=True).syscall(13, 32, act, None, 8) == 0  # rt_sigaction
os.execv(sys.argv[1], sys.argv[1:])
PY
	local rc=$?
	set -e
	[ "$rc" = 3 ] || fail "status $rc, want the command's 3"
	grep -qx 'SigIgn:[[:space:]]*0*' "$WORK/out" || fail "ignored inside: $(cat "$WORK/out")"
}

test_caller_personality_does_not_weaken_the_sandbox() {
	# setarch -R turns address space randomisation off for what it runs,
	# and the flag survives execve: not into the sandbox
	[ "$(setarch "$(uname -m)" -R cat /proc/self/personality)" = 00040000 ] ||
		fail "setarch -R did not set ADDR_NO_RANDOMIZE on the host"
	expect_status 0 setarch "$(uname -m)" -R "$SBX" run -q -- cat /proc/self/personality
	[ "$(cat "$WORK/out")" = 00000000 ] || fail "personality inside: $(cat "$WORK/out")"
}

test_no_core_dumps() {
	# RLIMIT_CORE is 0, hard limit included, whatever sbx was given: the
	# command can not raise it
	(
		ulimit -c unlimited
		[ "$(ulimit -Hc)" = unlimited ] || fail "could not raise the host's core limit"
		expect_status 0 run -- sh -c 'ulimit -Hc; ulimit -c unlimited 2>/dev/null && echo RAISED; true'
	)
	[ "$(head -n1 "$WORK/out")" = 0 ] || fail "hard core limit: $(head -n1 "$WORK/out")"
	expect_not_contains "$WORK/out" RAISED
}

test_closed_stdio_becomes_dev_null() {
	# stdin and stderr closed by the caller: sbx's own files must not take
	# their numbers; the command finds /dev/null there
	set +e
	"$SBX" run -q -- sh -c 'readlink /proc/self/fd/0 /proc/self/fd/2 >&1' >"$WORK/out" <&- 2>&-
	local rc=$?
	set -e
	[ "$rc" = 0 ] || fail "status $rc"
	[ "$(cat "$WORK/out")" = "$(printf '/dev/null\n/dev/null')" ] || fail "stdio inside: $(cat "$WORK/out")"
}

test_lower_hard_nofile_of_the_caller_stands() {
	# the policy's open-files (1024) is a limit: under a lower hard limit
	# the run works and keeps the lower one, instead of failing
	(
		ulimit -n 64
		expect_status 0 "$SBX" run -q -- sh -c 'ulimit -n; ulimit -Hn'
	)
	[ "$(cat "$WORK/out")" = "$(printf '64\n64')" ] || fail "limits inside: $(cat "$WORK/out")"
	expect_status 0 "$SBX" run -q -- sh -c 'ulimit -Hn'
	[ "$(cat "$WORK/out")" = 1024 ] || fail "default policy's open-files: $(cat "$WORK/out")"
}

test_host_loopback_unreachable() {
	python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
time.sleep(20)
' >"$WORK/port" &
	local lpid=$! port
	for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
	port=$(cat "$WORK/port")
	# positive control: reachable from the host
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 2)"
	expect_status 0 run -- python3 -c "
import socket
try:
    socket.create_connection(('127.0.0.1', $port), 2); print('CONNECTED')
except OSError as e:
    print('refused', e)
"
	kill $lpid
	wait $lpid 2>/dev/null || true
	expect_contains "$WORK/out" refused
}

test_loopback_inside_works() {
	expect_status 0 run -- python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
c.sendall(b"ping"); print(a.recv(4).decode())'
	expect_contains "$WORK/out" ping
	expect_status 0 run -- cat /sys/class/net/lo/flags
	grep -qx 0x9 "$WORK/out" || fail "lo flags: $(cat "$WORK/out") (want IFF_UP|IFF_LOOPBACK)"
}

test_network_none_leaves_lo_down() {
	expect_status 0 run -p "$POLICIES/net-none.yaml" -- python3 -c '
import socket
print(open("/sys/class/net/lo/flags").read().strip())
try:
    socket.socket().bind(("127.0.0.1", 0)); s = socket.socket(); s.listen(1)
    socket.create_connection(("127.0.0.1", s.getsockname()[1]), timeout=2)
    print("connected")
except OSError as e:
    print("refused", e.errno)'
	grep -qx 0x8 "$WORK/out" || fail "lo flags: $(head -n1 "$WORK/out") (want IFF_LOOPBACK alone)"
	grep -q connected "$WORK/out" && fail "lo answered with network: none"
	expect_contains "$WORK/out" refused
}

test_init_command_line_hides_the_host() {
	# pid 1 is a copy of sbx: its command line must not show the policy
	# path, the -e values or the volume sources it was started with, nor
	# its environment the caller's variables
	SBX_PROBE_HOST=host-secret expect_status 0 run -p "$POLICIES/root-inside.yaml" \
		-e SBX_PROBE_VALUE=hidden-value -- \
		sh -c 'tr "\0" " " </proc/1/cmdline; echo; cat /proc/1/comm; cat /proc/1/environ 2>&1 | head -c 200'
	expect_contains "$WORK/out" sbx-init
	grep -q "root-inside\|hidden-value\|host-secret\|SBX_PROBE\| run " "$WORK/out" &&
		fail "init's command line or environment is readable: $(cat "$WORK/out")"
	return 0
}

# ---- file system ----

test_writes_never_reach_the_host() {
	# root inside (uid 0 of the sandbox, unprivileged outside) may write /
	# (the overlay's tmpfs upper takes it); /usr is the host's, read-only
	expect_status 0 run -p "$POLICIES/root-inside.yaml" -- sh -c 'echo x > /sbx-probe && mkdir -p /etc/x && cat /sbx-probe; echo y > /usr/sbx-probe || echo usr-refused; touch /usr/bin/sbx-probe || echo bin-refused'
	expect_contains "$WORK/out" x
	expect_contains "$WORK/out" usr-refused
	expect_contains "$WORK/out" bin-refused
	expect_contains "$WORK/err" "Read-only file system"
	[ ! -e /sbx-probe ] || fail "/sbx-probe reached the host"
	[ ! -e /usr/sbx-probe ] || fail "/usr/sbx-probe reached the host"
	[ ! -e /usr/bin/sbx-probe ] || fail "/usr/bin/sbx-probe reached the host"
	expect_status 1 run -- test -e /sbx-probe
	# the host's /usr is bound read-only, nosuid and nodev
	expect_status 0 run -- awk '$5 == "/usr" { print $6 }' /proc/self/mountinfo
	grep -qx 'ro,nosuid,nodev[a-z,]*' "$WORK/out" || fail "/usr mount options: $(cat "$WORK/out")"
}

test_rootfs_dir_lower_untouched() {
	local r=$WORK/bbroot sum1 sum2
	make_busybox_rootfs "$r"
	sum1=$(find "$r" -printf '%p %s %m\n' | sort | md5sum)
	expect_status 0 run -p "$POLICIES/root-inside.yaml" -r "$r" -- sh -c 'echo hi > /new; rm /bin/ls; echo z > /etc/passwd; cat /new'
	expect_contains "$WORK/out" hi
	sum2=$(find "$r" -printf '%p %s %m\n' | sort | md5sum)
	[ "$sum1" = "$sum2" ] || fail "the lower directory changed"
	expect_status 0 run -r "$r" -- ls /bin/ls
}

test_no_host_secrets() {
	local f
	for f in /etc/shadow /etc/gshadow /etc/sudoers /etc/ssh /root/.bashrc /root/.ssh; do
		expect_status 1 run -p "$POLICIES/root-inside.yaml" -- test -e "$f"
	done
	expect_status 0 run -- sh -c 'ls -A /home; cat /etc/passwd'
	[ "$(sed -n 1p "$WORK/out")" = user ] || fail "/home holds: $(sed -n 1p "$WORK/out")"
	expect_contains "$WORK/out" "user:x:1000:1000"
	[ "$(grep -c : "$WORK/out")" = 3 ] || fail "passwd is not the generated one"
}

test_proc_masked_and_readonly() {
	expect_status 0 run -- sh -c '
		wc -c < /proc/kcore
		cat /proc/sysrq-trigger 2>/dev/null | wc -c
		echo 1 > /proc/sys/kernel/sysrq 2>/dev/null && echo SYSCTL-WRITTEN || echo sysctl-refused
		echo x > /sys/kernel/uevent_helper 2>/dev/null && echo SYS-WRITTEN || echo sys-refused'
	[ "$(sed -n 1p "$WORK/out")" = 0 ] || fail "/proc/kcore not masked"
	expect_contains "$WORK/out" sysctl-refused
	expect_contains "$WORK/out" sys-refused
}

test_dev_is_minimal() {
	expect_status 0 run -- sh -c 'ls /dev | tr "\n" " "; echo; echo hi > /dev/null && head -c 4 /dev/urandom | wc -c; ls /dev/sda /dev/mem 2>&1; touch /dev/new 2>&1 || true'
	expect_contains "$WORK/out" "No such file"
	expect_contains "$WORK/out" "4"
	expect_not_contains "$WORK/out" "mem "
}

test_tmp_and_home_writable() {
	expect_status 0 run -- sh -c 'echo a > /tmp/a && echo b > ~/b && cat /tmp/a ~/b && stat -c "%a %U" /tmp ~'
	expect_contains "$WORK/out" "1777 root"
	expect_contains "$WORK/out" "700 user"
}

test_host_view_files_belong_to_root_inside() {
	expect_status 0 run -- stat -c '%U %a' /etc/passwd /etc /dev/null /usr/bin/env
	[ "$(sed -n 1p "$WORK/out")" = "root 644" ] || fail "/etc/passwd: $(sed -n 1p "$WORK/out")"
	[ "$(sed -n 2p "$WORK/out")" = "root 755" ] || fail "/etc: $(sed -n 2p "$WORK/out")"
}

test_host_view_follows_host_changes() {
	# The skeleton is cached under a key of the host files it copies: a
	# changed host file gives the next sandbox a fresh copy.
	local f=/etc/protocols before after
	[ -f $f ] || { fail "$f missing on this host"; return 1; }
	expect_status 0 run -- true
	before=$(find /run/sbx/.hostview -mindepth 1 -maxdepth 1 | wc -l)
	local saved
	saved=$(stat -c %Y $f)
	touch $f
	expect_status 0 run -- true
	touch -d "@$saved" $f
	after=$(find /run/sbx/.hostview -mindepth 1 -maxdepth 1 | wc -l)
	[ "$after" -gt "$before" ] || fail "no new host view after $f changed ($before -> $after)"
}

test_hostname_is_sandbox() {
	expect_status 0 run -- hostname
	local h
	h=$(cat "$WORK/out")
	[ "$h" != "$(hostname)" ] || fail "host name leaked"
	[ "$h" = sbx ] || fail "hostname $h"
}

# ---- time limit, teardown ----

test_timeout_kills_everything() {
	local t0 t1
	t0=$(date +%s)
	expect_status 124 "$SBX" run -q -t 1s -- sh -c '
		(setsid sh -c "trap \"\" TERM; exec sleep 1001" &)
		trap "" TERM
		sleep 1002'
	t1=$(date +%s)
	[ $((t1 - t0)) -lt 5 ] || fail "took $((t1 - t0)) s"
	sleep 0.3
	if pgrep -f 'sleep 100[12]' >/dev/null; then fail "sandbox processes survived"; fi
}

test_sigterm_forwarded() {
	"$SBX" run -q -- sh -c 'trap "echo got-term; exit 3" TERM; sleep 30 & wait' >"$WORK/o" 2>&1 &
	local pid=$! st
	sleep 1
	kill -TERM $pid
	set +e
	wait $pid
	st=$?
	set -e
	[ $st = 3 ] || fail "status $st"
	expect_contains "$WORK/o" got-term
}

test_killed_supervisor_kills_sandbox_and_gc_cleans() {
	"$SBX" run -q -- sh -c 'sleep 1003' &
	local pid=$!
	sleep 1
	pgrep -f 'sleep 1003' >/dev/null || fail "sandbox did not start"
	kill -KILL $pid
	wait $pid 2>/dev/null || true
	for _ in $(seq 20); do pgrep -f 'sleep 1003' >/dev/null || break; sleep 0.1; done
	if pgrep -f 'sleep 1003' >/dev/null; then fail "sandbox outlived its supervisor"; fi
	# its state dir and cgroup are still there until gc
	[ -n "$(ls -A "$(state_root)")" ] || fail "no state left to collect (test is not testing)"
	sleep 2
	expect_status 0 "$SBX" gc
	expect_contains "$WORK/out" "removed state"
	expect_contains "$WORK/out" "removed cgroup"
}

test_sigterm_at_any_moment_leaves_nothing() {
	# SIGTERM to sbx at staggered moments of its start and run: whenever
	# it lands, nothing may be left behind (the harness checks state
	# files, cgroups, processes and mounts after the test)
	local i pid rc stopped=0
	for i in $(seq 40); do
		"$SBX" run -q -- sh -c 'sleep 0.01' </dev/null >/dev/null 2>&1 &
		pid=$!
		sleep "0.00$((i % 10))"
		kill -TERM "$pid" 2>/dev/null || true
		rc=0
		wait "$pid" 2>/dev/null || rc=$?
		# ran to its end, or ended by the signal (sbx's or the command's)
		case $rc in
		0) ;;
		143) stopped=$((stopped + 1)) ;;
		*) fail "run $i ended with status $rc" ;;
		esac
	done
	[ "$stopped" -gt 0 ] || fail "SIGTERM never stopped a run"
}

test_gc_leaves_live_sandboxes() {
	"$SBX" run -q -- sh -c 'sleep 4; cat /etc/hostname' >"$WORK/live" &
	local pid=$!
	sleep 3
	expect_status 0 "$SBX" gc
	expect_contains "$WORK/out" "nothing to remove"
	# the host view skeleton under the running sandbox is kept
	[ -n "$(find /run/sbx/.hostview -mindepth 1 -maxdepth 1 ! -name '.*')" ] || fail "skeleton removed"
	wait $pid || fail "the sandbox failed"
	expect_contains "$WORK/live" sbx
}

# ---- result record ----

test_json_record() {
	expect_status 3 "$SBX" run -q --json "$WORK/r.json" -- sh -c 'exit 3'
	python3 - "$WORK/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit_code"] == 3 and r["status"] == 3, r
assert r["timed_out"] is False and r["signal"] is None
assert r["policy"]["name"] and len(r["policy"]["sha256"]) == 64, r["policy"]
assert r["rootfs"]["kind"] == "host"
assert r["command"] == ["sh", "-c", "exit 3"]
for k in ("id", "started_at", "ended_at", "oom_killed", "memory_peak_bytes", "cpu_time_usec", "degraded", "denied_syscalls"):
    assert k in r, k
PY
}

test_json_record_unwritable_stops_before_the_run() {
	# a record that can not be written would lose the outcome of a
	# command that ran: the run fails first, and the command never starts
	mkdir -p "$WORK/mark"
	chmod 777 "$WORK/mark"
	printf 'sbx-policy: 1\nextends: default\nfilesystem:\n  volumes:\n    - host: %s\n      writable: true\n' \
		"$WORK/mark" >"$WORK/markvol.yaml"
	expect_status 0 "$SBX" run -q -p "$WORK/markvol.yaml" -v "$WORK/mark:/mark" -- touch /mark/control
	[ -e "$WORK/mark/control" ] || fail "the volume does not take writes (control)"
	expect_status 125 "$SBX" run -q -p "$WORK/markvol.yaml" -v "$WORK/mark:/mark" \
		--json "$WORK/no/such/dir/r.json" -- touch /mark/ran
	expect_contains "$WORK/err" "result record"
	[ ! -e "$WORK/mark/ran" ] || fail "the command ran"
}

test_json_record_timeout() {
	expect_status 124 "$SBX" run -q -t 300ms --json - -- sleep 5
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["timed_out"] and r["status"] == 124 and r["exit_code"] is None, r' "$WORK/out"
}

test_audit_records_denied_syscalls() {
	# the denial still happens (EPERM) and the record names each call
	expect_status 0 "$SBX" run -q -p audit --json "$WORK/a.json" -- python3 -c "
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for _ in range(2):
    assert libc.syscall(101, 0, 0, 0, 0) == -1 and ctypes.get_errno() == 1   # ptrace
assert libc.syscall(165, b'x', b'/tmp', b'tmpfs', 0, 0) == -1 and ctypes.get_errno() == 1  # mount
print(sorted(os.listdir('/proc/self/fd')))
"
	# the seccomp listener never reaches the sandbox
	expect_contains "$WORK/out" "['0', '1', '2', '3']"
	python3 - "$WORK/a.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d = {x["syscall"]: x for x in r["denied_syscalls"]}
assert d["ptrace"]["count"] == 2 and d["ptrace"]["arch"] == "x86_64", d
assert d["mount"]["count"] == 1, d
PY
}

test_audit_refused_when_handover_denied() {
	# The listener is handed over with sendmsg under the new filter; a policy
	# denying it would hang the command, so it is refused up front.
	printf 'sbx-policy: 1\nextends: audit\nsyscalls:\n  deny: [sendmsg]\n' >"$WORK/a2.yaml"
	bad_input "does not allow \`sendmsg\`" run -q -p "$WORK/a2.yaml" -- true
}

test_not_audited_record_says_null() {
	expect_status 0 "$SBX" run -q --json "$WORK/r.json" -- true
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["denied_syscalls"] is None, r' "$WORK/r.json"
}

# ---- bad input: 125, one line, nothing left ----

bad_input() { # expected-message args...
	local msg=$1
	shift
	expect_status 125 "$SBX" "$@"
	expect_contains "$WORK/err" "$msg"
	[ "$(wc -l <"$WORK/err")" = 1 ] || fail "error is not one line: $(cat "$WORK/err")"
}

test_bad_input() {
	bad_input "unknown option" run --frobnicate -- true
	bad_input "no command" run
	bad_input "no command" run -q --
	bad_input "rootfs \`/nonexistent\`" run -r /nonexistent -- true
	bad_input "not a directory" run -r /etc/hostname -- true
	bad_input "invalid duration \`10parsecs\`" run -t 10parsecs -- true
	bad_input "needs a value" run -t
	bad_input "unknown command" frobnicate
	bad_input "invalid volume" run -v nocolon -- true
}

test_strict_limit_fails_closed_without_controller() {
	# Only meaningful where cgroup2 lacks the memory controller (this host
	# kind); the VM tier checks the same policy succeeds where it exists.
	local cg
	cg=$(cgroup2_mount)
	if grep -qw memory "$cg/cgroup.controllers"; then
		expect_status 0 "$SBX" run -p "$POLICIES/strict-memory.yaml" -- true
	else
		expect_status 125 "$SBX" run -p "$POLICIES/strict-memory.yaml" -- true
		expect_contains "$WORK/err" "memory.max"
		expect_contains "$WORK/err" "can not be enforced"
	fi
}

test_best_effort_degradation_recorded() {
	local cg
	cg=$(cgroup2_mount)
	grep -qw memory "$cg/cgroup.controllers" && return 0
	expect_status 0 "$SBX" run --json "$WORK/r.json" -- true
	expect_contains "$WORK/err" "warning: best-effort limits of policy \`default\` not enforced here: memory.max"
	[ "$(wc -l <"$WORK/err")" = 1 ] || fail "more than one warning line"
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); d=[x["setting"] for x in r["degraded"]]; assert "memory.max" in d and "pids.max" in d, d' "$WORK/r.json"
}

test_subordinate_id_overlap_refused() {
	local had=0
	[ -e /etc/subuid ] && { had=1; cp -p /etc/subuid "$WORK/subuid.saved"; }
	echo "sbxtest:2113990000:100" >>/etc/subuid
	set +e
	"$SBX" run -q -- true >"$WORK/out" 2>"$WORK/err"
	local st=$?
	set -e
	if [ $had = 1 ]; then cp -p "$WORK/subuid.saved" /etc/subuid; else rm -f /etc/subuid; fi
	[ $st = 125 ] || fail "status $st"
	expect_contains "$WORK/err" "/etc/subuid gives \`sbxtest\` ids in"
}

test_missing_workdir_fails() {
	bad_input "working directory \`/no/such/dir\`" run -q -w /no/such/dir -- true
}

test_policy_cli() {
	expect_status 0 "$SBX" policy check default
	expect_status 0 "$SBX" policy compile default --format json
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/out"
	expect_status 0 "$SBX" policy compile --format oci default
	expect_status 0 "$SBX" policy explain default ptrace
	expect_contains "$WORK/out" "EPERM"
	expect_status 1 "$SBX" policy diff strict default
	expect_status 1 "$SBX" policy check /nonexistent.yaml
	printf 'sbx-policy: 1\nsyscalls:\n  allow: [opne]\n' >"$WORK/bad.yaml"
	expect_status 1 "$SBX" policy check "$WORK/bad.yaml"
	expect_contains "$WORK/err" "bad.yaml:3:"
}

test_oci_export_accepted_by_runc() {
	# `policy compile --format oci` is meant for runc, crun, podman and
	# Kubernetes: runc must accept it and enforce the same denials.
	command -v runc >/dev/null || { fail "runc missing (Debian package runc)"; return 1; }
	local b=$WORK/ocib
	mkdir -p "$b/rootfs/bin"
	cp /bin/busybox "$b/rootfs/bin/"
	ln -s busybox "$b/rootfs/bin/sh"
	ln -s busybox "$b/rootfs/bin/unshare"
	(cd "$b" && runc spec)
	"$SBX" policy compile --format oci default >"$b/sbx.json" 2>/dev/null
	python3 - "$b" <<'PY'
import json, sys
b = sys.argv[1]
spec = json.load(open(b + "/config.json"))
oci = json.load(open(b + "/sbx.json"))
spec["process"]["terminal"] = False
spec["process"]["args"] = ["/bin/sh", "-c", "unshare -U true 2>&1; echo unshare=$?"]
spec["linux"]["seccomp"] = oci["linux"]["seccomp"]
json.dump(spec, open(b + "/config.json", "w"))
PY
	expect_status 0 runc --root "$b/state" run --bundle "$b" "sbx-oci-$$"
	expect_contains "$WORK/out" "Operation not permitted"
	expect_contains "$WORK/out" "unshare=1"
}

test_symlink_in_rootfs_can_not_redirect_mounts() {
	# An image whose /link points at the host's /tmp: a volume mounted below
	# /link must land inside the sandbox, and nothing may appear on the host.
	local r=$WORK/symroot
	make_busybox_rootfs "$r"
	ln -s /tmp "$r/link"
	mkdir -p "$WORK/voldata"
	echo vol >"$WORK/voldata/f"
	printf 'sbx-policy: 1\nextends: default\nfilesystem:\n  volumes:\n    - host: %s\n' "$WORK" >"$WORK/vol.yaml"
	rm -rf /tmp/sbx-escape-probe
	expect_status 0 run -p "$WORK/vol.yaml" -r "$r" -v "$WORK/voldata:/link/sbx-escape-probe/d:ro" -- cat /tmp/sbx-escape-probe/d/f
	expect_contains "$WORK/out" vol
	[ ! -e /tmp/sbx-escape-probe ] || { rm -rf /tmp/sbx-escape-probe; fail "a mount point was created on the host"; }
}

test_readonly_volume_covers_submounts() {
	# A host file system mounted below a `:ro` volume's source must be
	# read-only inside too: a remount changes only the top of a recursive bind.
	local v=$WORK/rovol rc=0
	mkdir -p "$v/sub"
	mount -t tmpfs sbx-test "$v/sub"
	chmod 1777 "$v/sub"
	printf 'sbx-policy: 1\nextends: default\nfilesystem:\n  volumes:\n    - host: %s\n' "$WORK" >"$WORK/rovol.yaml"
	expect_status 0 run -p "$WORK/rovol.yaml" -v "$v:/data:ro" -- sh -c '! touch /data/sub/probe 2>/dev/null' || rc=1
	# (no `fail` before the umount: set -e would leave the mount behind)
	if [ -e "$v/sub/probe" ]; then
		echo "    FAIL: a write below a read-only volume reached the host" >&2
		rc=1
	fi
	umount "$v/sub"
	return $rc
}

test_volume_source_swapped_for_symlink() {
	# The volume's source flips between a directory and a symlink to /etc
	# (as another sandbox could do through a shared writable volume): the
	# policy is checked on one, the mount must never bind the other.
	local w=$WORK/swap hits=0
	mkdir -p "$w/v"
	touch "$w/v/inside"
	ln -s /etc "$w/other"
	printf 'sbx-policy: 1\nextends: default\nfilesystem:\n  volumes:\n    - host: %s\n' "$w" >"$WORK/swap.yaml"
	python3 - "$w" <<'PY' &
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
d = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
end = time.time() + 30
while time.time() < end and not os.path.exists(os.path.join(sys.argv[1], "stop")):
    libc.renameat2(d, b"v", d, b"other", 2)  # RENAME_EXCHANGE
PY
	for _ in $(seq 60); do
		if run -p "$WORK/swap.yaml" -v "$w/v:/data:ro" -- ls /data 2>/dev/null | grep -q passwd; then
			hits=$((hits + 1))
		fi
	done
	touch "$w/stop"
	wait
	[ "$hits" = 0 ] || fail "host /etc was bound as the volume $hits times"
}

test_volume_refused_without_policy_rule() {
	expect_status 125 "$SBX" run -v /etc:/mnt/etc:ro -- true
	expect_contains "$WORK/err" "not allowed by policy"
}

run_tests
