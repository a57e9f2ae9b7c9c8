/* acu_crypto.c - randomness, base64url, SHA-256 and constant-time compare. */
#include "acu_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "acu_error.h"

conn_status acu_random_bytes(unsigned char *buf, size_t n, conn_error *err)
{
    if (n > (size_t)INT32_MAX || RAND_bytes(buf, (int)n) != 1)
        return acu_err_set(err, CONN_INTERNAL,
                           "OpenSSL could not produce random bytes");
    return CONN_OK;
}

size_t acu_b64url_encode(const unsigned char *data, size_t n, char *out,
                         size_t cap)
{
    int len;

    if (cap < ACU_B64URL_LEN(n) || n > (size_t)INT32_MAX / 2)
        return 0;
    /* EVP_EncodeBlock writes padded standard base64 and a NUL. */
    len = EVP_EncodeBlock((unsigned char *)out, data, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (int i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return (size_t)len;
}

conn_status acu_random_token(size_t nbytes, char *out, size_t cap,
                             conn_error *err)
{
    unsigned char raw[96];
    conn_status st;

    if (nbytes > sizeof(raw) || cap < ACU_B64URL_LEN(nbytes))
        return acu_err_set(err, CONN_INTERNAL, "random token: buffer too small");
    st = acu_random_bytes(raw, nbytes, err);
    if (st == CONN_OK && acu_b64url_encode(raw, nbytes, out, cap) == 0)
        st = acu_err_set(err, CONN_INTERNAL, "random token: encoding failed");
    OPENSSL_cleanse(raw, sizeof(raw));
    return st;
}

conn_status acu_pkce_challenge(const char *verifier,
                               char out[ACU_PKCE_CHALLENGE_SIZE], conn_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != 32)
        return acu_err_set(err, CONN_INTERNAL, "OpenSSL could not compute SHA-256");
    if (acu_b64url_encode(md, mdlen, out, ACU_PKCE_CHALLENGE_SIZE) != 43)
        return acu_err_set(err, CONN_INTERNAL, "PKCE challenge: encoding failed");
    return CONN_OK;
}

int acu_ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    if (a == NULL || b == NULL || alen != blen)
        return 0;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void acu_prng_seed_fixed(acu_prng *p, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        p->s[i] = splitmix64(&seed);
}

conn_status acu_prng_seed(acu_prng *p, conn_error *err)
{
    uint64_t seed;
    conn_status st = acu_random_bytes((unsigned char *)&seed, sizeof(seed), err);

    if (st == CONN_OK)
        acu_prng_seed_fixed(p, seed);
    return st;
}

static uint64_t next(acu_prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t acu_prng_below(acu_prng *p, uint64_t bound)
{
    uint64_t limit, v;

    if (bound == 0)
        return 0;
    /* Rejection sampling: no modulo bias. */
    limit = UINT64_MAX - (UINT64_MAX % bound);
    do {
        v = next(p);
    } while (v >= limit);
    return v % bound;
}
