/* nss-stubs.c - linked into the static `sbx` binary only.
 *
 * sbx is linked statically, glibc included: a dynamically linked sbx spends
 * about 0.6 ms of every `sbx run` in the dynamic loader (docs/benchmarks.md).
 * glibc's name-service functions can not work in a static binary without
 * the shared NSS modules of the very glibc it was built with, and libnl
 * references three of them from helpers sbx never calls (protocol and
 * address names in its string conversions).  These definitions take their
 * place and fail, so no NSS module is ever loaded into sbx at run time, and
 * the link is free of glibc's warnings about them.
 */
#include <netdb.h>
#include <stddef.h>

int getaddrinfo(const char *restrict node, const char *restrict service,
                const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
        (void)node;
        (void)service;
        (void)hints;
        *res = NULL;
        return EAI_FAIL;
}

void freeaddrinfo(struct addrinfo *res)
{
        (void)res;
}

struct protoent *getprotobyname(const char *name)
{
        (void)name;
        return NULL;
}

struct protoent *getprotobynumber(int proto)
{
        (void)proto;
        return NULL;
}
