/* audit.c - record the syscalls a sandbox was denied.
 *
 * With `audit: denied` the command loads the plan's audit program: the
 * enforcing program with every errno answer turned into
 * SECCOMP_RET_USER_NOTIF.  The kernel then parks each denied call and hands
 * it to the listener fd, which the command passes to the supervisor over a
 * socket and closes before exec, so nothing inside the sandbox can answer
 * its own calls.  The supervisor runs the enforcing program on the call's
 * seccomp_data in user space (sbx_bpf_run) and answers with exactly the
 * errno the enforcing filter would have given: the workload sees the same
 * behaviour, and the record gains the call.  Calls the policy kills are
 * not notified: they end the process, which the record shows as a signal.
 */
#include "internal.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/socket.h>

struct sbx_audit {
        const sbx_plan *plan;
        struct seccomp_notif *req;
        struct seccomp_notif_resp *resp;
};

struct sbx_audit *sbx_audit_new(const sbx_plan *plan)
{
        struct sbx_audit *a = xcalloc(1, sizeof(*a));

        a->plan = plan;
        if (seccomp_notify_alloc(&a->req, &a->resp) < 0) {
                free(a);
                return NULL;
        }
        return a;
}

void sbx_audit_free(struct sbx_audit *a)
{
        if (a == NULL)
                return;
        seccomp_notify_free(a->req, a->resp);
        free(a);
}

static void record(struct sbx_result *res, uint32_t arch, int nr)
{
        struct sbx_denied_syscall *d;
        char *name;

        for (size_t i = 0; i < res->n_denied; i++)
                if (res->denied[i].arch == arch && res->denied[i].nr == nr) {
                        res->denied[i].count++;
                        return;
                }
        name = seccomp_syscall_resolve_num_arch(arch, nr);
        res->denied = xrealloc(res->denied, (res->n_denied + 1) * sizeof(*res->denied));
        d = &res->denied[res->n_denied++];
        d->name = name ? xstrdup(name) : xasprintf("nr %d", nr);
        d->nr = nr;
        d->arch = arch;
        d->count = 1;
        free(name);
}

int sbx_audit_handle(struct sbx_audit *a, int listener, struct sbx_result *res)
{
        uint32_t action;

        memset(a->req, 0, sizeof(*a->req));
        if (seccomp_notify_receive(listener, a->req) < 0)
                return -1; /* the caller died meanwhile, or the filter is gone */
        action = sbx_bpf_run(a->plan->seccomp, a->plan->seccomp_len, &a->req->data);
        memset(a->resp, 0, sizeof(*a->resp));
        a->resp->id = a->req->id;
        if ((action & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO)
                a->resp->error = -(int)(action & SECCOMP_RET_DATA);
        else
                /* Only errno answers are turned into notifications; anything
                 * else is a mismatch between the two programs: deny. */
                a->resp->error = -EPERM;
        record(res, a->req->data.arch, a->req->data.nr);
        seccomp_notify_respond(listener, a->resp);
        return 0;
}

int sbx_send_fd(int sock, int fd)
{
        char data = 'L';
        struct iovec iov = {.iov_base = &data, .iov_len = 1};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

        memset(u.buf, 0, sizeof(u.buf));
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        return TEMP_FAILURE_RETRY(sendmsg(sock, &msg, MSG_NOSIGNAL)) == 1 ? 0 : -1;
}

int sbx_recv_fd(int sock)
{
        char data;
        struct iovec iov = {.iov_base = &data, .iov_len = 1};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf)};
        struct cmsghdr *c;
        int fd;

        if (TEMP_FAILURE_RETRY(recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) != 1)
                return -1;
        c = CMSG_FIRSTHDR(&msg);
        if (c == NULL || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
                return -1;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return fd;
}
