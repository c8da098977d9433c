/* net.c - the sandbox's network: a fresh network namespace in which only
 * the loopback device exists, brought up through rtnetlink (libnl-route-3)
 * when the policy says so.  Nothing connects the namespace to the host: no
 * veth, no route, and its 127.0.0.1 is its own.
 *
 * The namespace is made by a thread of init rather than by clone3(): making
 * one costs the kernel about 0.7 ms (every network subsystem initialises
 * its per-namespace state), and on a thread that time passes while init
 * builds the root file system.  It is owned by the sandbox's user namespace
 * all the same (the thread runs in it), and init enters it before it mounts
 * /sys and long before anything untrusted exists. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <semaphore.h>
#include <unistd.h>

#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

int sbx_net_loopback_up(sbx_error **err)
{
        struct nl_sock *sk = nl_socket_alloc();
        struct rtnl_link *lo = NULL, *change = NULL;
        int r = -1, e;

        if (sk == NULL)
                return sbx_fail(err, "loopback: can not allocate a netlink socket");
        if ((e = nl_connect(sk, NETLINK_ROUTE)) < 0) {
                sbx_fail(err, "loopback: netlink connect: %s", nl_geterror(e));
                goto out;
        }
        /* The loopback device is the first one every network namespace
         * registers: its index is always 1 (LOOPBACK_IFINDEX), so no
         * round trip to look it up. */
        lo = rtnl_link_alloc();
        rtnl_link_set_ifindex(lo, 1);
        change = rtnl_link_alloc();
        rtnl_link_set_flags(change, IFF_UP);
        if ((e = rtnl_link_change(sk, lo, change, 0)) < 0) {
                sbx_fail(err, "loopback: set `lo` up: %s", nl_geterror(e));
                goto out;
        }
        r = 0;
out:
        if (change)
                rtnl_link_put(change);
        if (lo)
                rtnl_link_put(lo);
        nl_socket_free(sk);
        return r;
}

/* The thread makes the network namespace for itself (a thread may: the
 * namespaces of a task are its own), keeps a handle on it, tells init it is
 * there, then brings its loopback up when asked to. */
static void *net_thread(void *arg)
{
        struct sbx_net *n = arg;
        bool made = false;

        if (unshare(CLONE_NEWNET) < 0)
                sbx_fail_errno(&n->ns_err, errno, "create the network namespace");
        else if ((n->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
                sbx_fail_errno(&n->ns_err, errno, "open the new network namespace");
        else
                made = true;
        /* From here on ns_err and nsfd are init's to read and change. */
        sem_post(&n->ready);
        if (made && n->loopback_up)
                sbx_net_loopback_up(&n->lo_err);
        return NULL;
}

int sbx_net_start(struct sbx_net *n, bool loopback_up, sbx_error **err)
{
        pthread_attr_t attr;
        cpu_set_t cpus;
        bool pinned = false;
        int e, cpu;

        *n = (struct sbx_net){.nsfd = -1, .loopback_up = loopback_up};
        if (sem_init(&n->ready, 0, 0) < 0)
                return sbx_fail_errno(err, errno, "network namespace: semaphore");
        /* On a CPU other than this one, where there is one: the kernel
         * places a new thread beside its creator, and there it would wait
         * for the mounts to block, or for the scheduler's tick to move it
         * (a millisecond and more), before it could run. */
        pthread_attr_init(&attr);
        if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && (cpu = sched_getcpu()) >= 0) {
                CPU_CLR(cpu, &cpus);
                if (CPU_COUNT(&cpus) > 0)
                        pinned = pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus) == 0;
        }
        e = pthread_create(&n->thread, &attr, net_thread, n);
        pthread_attr_destroy(&attr);
        if (e == EINVAL && pinned) /* the CPUs changed meanwhile: anywhere will do */
                e = pthread_create(&n->thread, NULL, net_thread, n);
        if (e != 0) {
                sem_destroy(&n->ready);
                return sbx_fail_errno(err, e, "network namespace: start a thread");
        }
        n->started = true;
        return 0;
}

/* Hand `e` over (the first error wins), or drop it; -1 when there was one. */
static int report(sbx_error *e, sbx_error **err)
{
        if (e == NULL)
                return 0;
        if (err && *err == NULL)
                *err = e;
        else
                sbx_error_free(e);
        return -1;
}

int sbx_net_enter(struct sbx_net *n, sbx_error **err)
{
        if (!n->started)
                return sbx_fail(err, "network namespace: never started");
        while (sem_wait(&n->ready) < 0 && errno == EINTR)
                ;
        if (n->ns_err != NULL) /* written before `ready` was posted */
                return report(steal_pointer(&n->ns_err), err);
        if (setns(n->nsfd, CLONE_NEWNET) < 0)
                return sbx_fail_errno(err, errno, "enter the new network namespace");
        close(n->nsfd);
        n->nsfd = -1;
        n->entered = true;
        return 0;
}

int sbx_net_finish(struct sbx_net *n, sbx_error **err)
{
        if (n->started) {
                pthread_join(n->thread, NULL);
                n->started = false;
                sem_destroy(&n->ready);
        }
        if (n->nsfd >= 0) {
                close(n->nsfd);
                n->nsfd = -1;
        }
        sbx_error_free(steal_pointer(&n->ns_err));
        if (!n->entered) { /* fail closed: never in the host's network */
                sbx_error_free(steal_pointer(&n->lo_err));
                return sbx_fail(err, "the sandbox's network namespace was never entered");
        }
        return report(steal_pointer(&n->lo_err), err);
}
