/* sha256.c - SHA-256, portable and x86 SHA-extension block functions. */
#include "sha256.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
        return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void blocks_portable(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
        for (; nblocks > 0; nblocks--, p += 64) {
                uint32_t w[64], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5],
                                g = h[6], hh = h[7];

                for (int i = 0; i < 16; i++)
                        w[i] = load_be32(p + 4 * i);
                for (int i = 16; i < 64; i++) {
                        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
                        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
                        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
                }
                for (int i = 0; i < 64; i++) {
                        uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
                                      ((e & f) ^ (~e & g)) + K[i] + w[i];
                        uint32_t t2 =
                            (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                        hh = g;
                        g = f;
                        f = e;
                        e = d + t1;
                        d = c;
                        c = b;
                        b = a;
                        a = t1 + t2;
                }
                h[0] += a;
                h[1] += b;
                h[2] += c;
                h[3] += d;
                h[4] += e;
                h[5] += f;
                h[6] += g;
                h[7] += hh;
        }
}

#if defined(__x86_64__)
/* The SHA extensions keep the state as two vectors, ABEF and CDGH, and do two
 * rounds per sha256rnds2; four message words are scheduled per group with
 * sha256msg1/msg2.  Group g of 16 needs the words of groups g-4..g-1, kept in
 * a ring of four vectors. */
__attribute__((target("sha,sse4.1,ssse3"))) static void
blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
        const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
        __m128i t = _mm_loadu_si128((const __m128i *)&h[0]);
        __m128i s1 = _mm_loadu_si128((const __m128i *)&h[4]);
        __m128i s0;

        t = _mm_shuffle_epi32(t, 0xB1);
        s1 = _mm_shuffle_epi32(s1, 0x1B);
        s0 = _mm_alignr_epi8(t, s1, 8);
        s1 = _mm_blend_epi16(s1, t, 0xF0);

        for (; nblocks > 0; nblocks--, p += 64) {
                __m128i save0 = s0, save1 = s1, m[4];

#pragma GCC unroll 16
                for (int g = 0; g < 16; g++) {
                        __m128i msg;
                        if (g < 4) {
                                m[g] = _mm_shuffle_epi8(
                                    _mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
                        } else {
                                __m128i x = _mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]);
                                x = _mm_add_epi32(
                                    x, _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4));
                                m[g & 3] = _mm_sha256msg2_epu32(x, m[(g + 3) & 3]);
                        }
                        msg = _mm_add_epi32(m[g & 3], _mm_loadu_si128((const __m128i *)&K[4 * g]));
                        s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
                        msg = _mm_shuffle_epi32(msg, 0x0E);
                        s0 = _mm_sha256rnds2_epu32(s0, s1, msg);
                }
                s0 = _mm_add_epi32(s0, save0);
                s1 = _mm_add_epi32(s1, save1);
        }

        t = _mm_shuffle_epi32(s0, 0x1B);
        s1 = _mm_shuffle_epi32(s1, 0xB1);
        s0 = _mm_blend_epi16(t, s1, 0xF0);
        s1 = _mm_alignr_epi8(s1, t, 8);
        _mm_storeu_si128((__m128i *)&h[0], s0);
        _mm_storeu_si128((__m128i *)&h[4], s1);
}

static bool cpu_has_sha(void)
{
        unsigned a, b, c, d;
        if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
                return false;
        if (!(b & (1u << 29))) /* SHA */
                return false;
        if (!__get_cpuid(1, &a, &b, &c, &d))
                return false;
        return (c & (1u << 19)) && (c & (1u << 9)); /* SSE4.1, SSSE3 */
}
#endif

typedef void (*blocks_fn)(uint32_t h[8], const uint8_t *p, size_t nblocks);
static blocks_fn blocks;
static bool force_portable;

static blocks_fn pick_blocks(void)
{
        if (blocks == NULL) {
                blocks = blocks_portable;
#if defined(__x86_64__)
                if (!force_portable && cpu_has_sha())
                        blocks = blocks_shani;
#endif
        }
        return blocks;
}

void sha256_force_portable(bool on)
{
        force_portable = on;
        blocks = NULL;
}

bool sha256_accelerated(void)
{
        return pick_blocks() != blocks_portable;
}

void sha256_init(sha256_ctx *c)
{
        static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        memcpy(c->h, iv, sizeof(iv));
        c->len = 0;
        c->nbuf = 0;
}

void sha256_update(sha256_ctx *c, const void *data, size_t n)
{
        const uint8_t *p = data;
        blocks_fn fn = pick_blocks();

        c->len += n;
        if (c->nbuf > 0) {
                size_t take = 64 - c->nbuf < n ? 64 - c->nbuf : n;
                memcpy(c->buf + c->nbuf, p, take);
                c->nbuf += take;
                p += take;
                n -= take;
                if (c->nbuf < 64)
                        return;
                fn(c->h, c->buf, 1);
                c->nbuf = 0;
        }
        if (n >= 64) {
                fn(c->h, p, n / 64);
                p += n & ~(size_t)63;
                n &= 63;
        }
        memcpy(c->buf, p, n);
        c->nbuf = n;
}

void sha256_final(sha256_ctx *c, uint8_t out[SHA256_DIGEST_LEN])
{
        uint64_t bits = c->len * 8;
        uint8_t pad[72] = {0x80};
        size_t padlen = (c->nbuf < 56 ? 56 : 120) - c->nbuf;

        for (int i = 0; i < 8; i++)
                pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
        sha256_update(c, pad, padlen + 8);
        for (int i = 0; i < 8; i++) {
                out[4 * i] = (uint8_t)(c->h[i] >> 24);
                out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
                out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
                out[4 * i + 3] = (uint8_t)c->h[i];
        }
}

void sha256_final_hex(sha256_ctx *c, char out[SHA256_HEX_LEN + 1])
{
        static const char hex[] = "0123456789abcdef";
        uint8_t d[SHA256_DIGEST_LEN];

        sha256_final(c, d);
        for (int i = 0; i < SHA256_DIGEST_LEN; i++) {
                out[2 * i] = hex[d[i] >> 4];
                out[2 * i + 1] = hex[d[i] & 15];
        }
        out[SHA256_HEX_LEN] = '\0';
}

void sha256_hex(const void *data, size_t n, char out[SHA256_HEX_LEN + 1])
{
        sha256_ctx c;
        sha256_init(&c);
        sha256_update(&c, data, n);
        sha256_final_hex(&c, out);
}
