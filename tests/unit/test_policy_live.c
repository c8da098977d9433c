/* test_policy_live.c - the compiled default filter loaded for real in Check's
 * forked tests: allowed calls work, denied ones see EPERM/ENOSYS, other ABIs
 * die of SIGSYS, and real programs (threads, python3) run under it. */
#include "sbx-policy.h"
#include "util.h"

#include <check.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void enter(const char *name)
{
        sbx_error *err = NULL;
        sbx_policy *pol;
        sbx_plan *plan;
        struct sock_fprog prog;

        if (sbx_policy_load(name, &pol, &err) < 0 || sbx_policy_compile(pol, &plan, &err) < 0)
                ck_abort_msg("%s", err->msg);
        prog.len = (unsigned short)plan->seccomp_len;
        prog.filter = plan->seccomp;
        ck_assert_int_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        ck_assert_int_eq(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog), 0);
}

START_TEST(test_denied_calls)
{
        enter("default");
        ck_assert_int_gt(getpid(), 0);
        errno = 0;
        ck_assert_int_eq(mount("none", "/mnt", "tmpfs", 0, NULL), -1);
        ck_assert_int_eq(errno, EPERM);
        ck_assert_int_eq(unshare(CLONE_NEWUSER), -1);
        ck_assert_int_eq(errno, EPERM);
        ck_assert_int_eq(syscall(SYS_clone3, NULL, 0), -1);
        ck_assert_int_eq(errno, ENOSYS);
        ck_assert_int_eq(syscall(500), -1);
        ck_assert_int_eq(errno, ENOSYS);
        ck_assert_int_eq(socket(AF_NETLINK, SOCK_RAW, 0), -1);
        ck_assert_int_eq(errno, EAFNOSUPPORT);
        ck_assert_int_eq(syscall(SYS_ptrace, 0, 0, 0, 0), -1);
        ck_assert_int_eq(errno, EPERM);
        ck_assert_int_eq(syscall(SYS_io_uring_setup, 1, NULL), -1);
        ck_assert_int_eq(errno, EPERM);
        ck_assert_int_ge(socket(AF_UNIX, SOCK_STREAM, 0), 0);
}
END_TEST

START_TEST(test_clone_namespace_flags)
{
        long r;

        enter("default");
        r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
        ck_assert_int_eq(r, -1);
        ck_assert_int_eq(errno, EPERM);
}
END_TEST

static void *thread_main(void *arg)
{
        return arg;
}

/* glibc >= 2.34 tries clone3 first and falls back to clone on ENOSYS */
START_TEST(test_threads_and_fork)
{
        pthread_t t;
        void *ret = NULL;
        int status;
        pid_t pid;

        enter("default");
        ck_assert_int_eq(pthread_create(&t, NULL, thread_main, (void *)42), 0);
        ck_assert_int_eq(pthread_join(t, &ret), 0);
        ck_assert_ptr_eq(ret, (void *)42);
        pid = fork();
        if (pid == 0)
                _exit(7);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}
END_TEST

START_TEST(test_python3)
{
        int status;
        pid_t pid;

        if (access("/usr/bin/python3", X_OK) != 0)
                ck_abort_msg("python3 is required for this test");
        enter("default");
        pid = fork();
        if (pid == 0) {
                execl("/usr/bin/python3", "python3", "-c",
                      "import threading, subprocess, socket\n"
                      "t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
                      "assert subprocess.run(['/bin/true']).returncode == 0\n"
                      "s = socket.socket(socket.AF_INET); s.bind(('127.0.0.1', 0)); s.close()\n",
                      (char *)NULL);
                _exit(127);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "python3 status %#x", status);
}
END_TEST

START_TEST(test_x32_killed)
{
        enter("default");
        syscall(0x40000000 | SYS_getpid);
}
END_TEST

START_TEST(test_i386_killed)
{
        long r = 20; /* i386 getpid */

        enter("default");
        __asm__ volatile("int $0x80" : "+a"(r) : : "memory");
}
END_TEST

static Suite *live_suite(void)
{
        Suite *s = suite_create("policy-live");
        TCase *tc = tcase_create("default");

        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_denied_calls);
        tcase_add_test(tc, test_clone_namespace_flags);
        tcase_add_test(tc, test_threads_and_fork);
        tcase_add_test(tc, test_python3);
        tcase_add_test_raise_signal(tc, test_x32_killed, SIGSYS);
        tcase_add_test_raise_signal(tc, test_i386_killed, SIGSYS);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(live_suite());
        int failed;

        srunner_set_fork_status(sr, CK_FORK);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
