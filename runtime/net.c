/* net.c - the sandbox's network: a fresh network namespace (made by clone)
 * in which only the loopback device exists; this brings it up through
 * rtnetlink (libnl-route-3).  Nothing connects the namespace to the host:
 * no veth, no route, and its 127.0.0.1 is its own. */
#include "internal.h"

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

static void *loopback_thread(void *arg)
{
        struct sbx_net_up *u = arg;

        sbx_net_loopback_up(&u->err);
        return NULL;
}

int sbx_net_loopback_up_start(struct sbx_net_up *u, sbx_error **err)
{
        int e;

        u->err = NULL;
        u->started = false;
        if ((e = pthread_create(&u->thread, NULL, loopback_thread, u)) != 0)
                return sbx_fail_errno(err, e, "loopback: start a thread");
        u->started = true;
        return 0;
}

int sbx_net_loopback_up_finish(struct sbx_net_up *u, sbx_error **err)
{
        if (!u->started)
                return 0;
        pthread_join(u->thread, NULL);
        u->started = false;
        if (u->err == NULL)
                return 0;
        if (err && *err == NULL)
                *err = u->err;
        else
                sbx_error_free(u->err);
        u->err = NULL;
        return -1;
}
