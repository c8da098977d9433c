/* sha256.h - SHA-256 (FIPS 180-4), pure: no I/O, no allocation.
 *
 * Written here rather than taken from a library: the `sbx` binary must not
 * link libcrypto or nettle (start-up cost on the `sbx run` path), and
 * libarchive exposes no hashing API.  On CPUs with the SHA extensions the
 * block function uses them (chosen once at run time); the portable code is
 * the reference the tests compare it against.
 */
#ifndef SBX_SHA256_H
#define SBX_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN 64

typedef struct sha256_ctx {
        uint32_t h[8];
        uint64_t len; /* bytes hashed so far */
        uint8_t buf[64];
        size_t nbuf;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, uint8_t out[SHA256_DIGEST_LEN]);
/* Finish and write 64 lower-case hex digits plus NUL. */
void sha256_final_hex(sha256_ctx *c, char out[SHA256_HEX_LEN + 1]);
void sha256_hex(const void *data, size_t n, char out[SHA256_HEX_LEN + 1]);

/* Force the portable block function (tests compare both paths). */
void sha256_force_portable(bool on);
/* True when the SHA extensions are in use. */
bool sha256_accelerated(void);

#endif
