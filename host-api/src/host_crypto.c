/* host_crypto.c - the secret key file and AES-256-GCM sealing of secrets. */
#include "host_crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_error.h"

void host_key_wipe(host_key *key)
{
    if (key != NULL)
        OPENSSL_cleanse(key->bytes, sizeof(key->bytes));
}

/* Read exactly HOST_KEY_BYTES from an open key file after checking what the
 * file is and who may read it. */
static conn_status read_key_fd(int fd, const char *path, host_key *key, conn_error *err)
{
    struct stat sb;
    size_t got = 0;
    unsigned char extra;

    if (fstat(fd, &sb) != 0)
        return host_err_set(err, CONN_INTERNAL, "the key file %s cannot be examined: %s", path,
                            strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return host_err_set(err, CONN_INTERNAL, "the key file %s is not a regular file", path);
    if (sb.st_uid != geteuid())
        return host_err_set(err, CONN_INTERNAL,
                            "the key file %s belongs to user %lu, not to this user (%lu); "
                            "the host refuses a key another user controls",
                            path, (unsigned long)sb.st_uid, (unsigned long)geteuid());
    if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        return host_err_set(err, CONN_INTERNAL,
                            "the key file %s has mode %04o, so other users can reach it; "
                            "make it private with: chmod 600 %s",
                            path, (unsigned)(sb.st_mode & 07777), path);
    while (got < HOST_KEY_BYTES) {
        ssize_t n = read(fd, key->bytes + got, HOST_KEY_BYTES - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return host_err_set(err, CONN_INTERNAL, "the key file %s cannot be read: %s", path,
                                strerror(errno));
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got != HOST_KEY_BYTES || read(fd, &extra, 1) != 0) {
        host_key_wipe(key);
        return host_err_set(err, CONN_INTERNAL,
                            "the key file %s does not hold exactly %d bytes; it is not a key "
                            "this host wrote",
                            path, HOST_KEY_BYTES);
    }
    return CONN_OK;
}

static conn_status write_all(int fd, const unsigned char *p, size_t len, const char *path,
                             conn_error *err)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return host_err_set(err, CONN_INTERNAL, "the key file %s cannot be written: %s",
                                path, n < 0 ? strerror(errno) : "short write");
        p += n;
        len -= (size_t)n;
    }
    return CONN_OK;
}

/* Make a new key file: write a private temporary file completely, then
 * link() it to the final name, which fails if another process got there
 * first. Readers thus never see a half-written key. Returns CONN_OK with
 * *raced = 1 when another process created the file meanwhile. */
static conn_status create_key_file(const char *path, int *raced, conn_error *err)
{
    char tmp[PATH_MAX];
    unsigned char bytes[HOST_KEY_BYTES];
    conn_status st = CONN_OK;
    int fd = -1, n;

    *raced = 0;
    n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return host_err_set(err, CONN_INTERNAL, "the key file path %s is too long", path);
    if (RAND_bytes(bytes, sizeof(bytes)) != 1)
        return host_err_set(err, CONN_INTERNAL,
                            "no random bytes for a new key file %s (OpenSSL RAND_bytes failed)",
                            path);
    (void)unlink(tmp); /* a leftover of a crashed run of this pid */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        st = host_err_set(err, CONN_INTERNAL, "the key file %s cannot be created: %s", tmp,
                          strerror(errno));
        goto out;
    }
    st = write_all(fd, bytes, sizeof(bytes), tmp, err);
    if (st != CONN_OK)
        goto out;
    if (fsync(fd) != 0) {
        st = host_err_set(err, CONN_INTERNAL, "the key file %s cannot be synced: %s", tmp,
                          strerror(errno));
        goto out;
    }
    if (link(tmp, path) != 0) {
        if (errno == EEXIST)
            *raced = 1;
        else
            st = host_err_set(err, CONN_INTERNAL, "the key file %s cannot be created: %s",
                              path, strerror(errno));
    }
out:
    OPENSSL_cleanse(bytes, sizeof(bytes));
    if (fd >= 0) {
        close(fd);
        (void)unlink(tmp);
    }
    return st;
}

conn_status host_key_load(const char *path, int create, host_key *key, conn_error *err)
{
    conn_status st;
    int fd, raced = 0;

    for (int attempt = 0; attempt < 2; attempt++) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            st = read_key_fd(fd, path, key, err);
            close(fd);
            return st;
        }
        if (errno != ENOENT)
            return host_err_set(err, CONN_INTERNAL, "the key file %s cannot be opened: %s",
                                path, strerror(errno));
        if (!create)
            return host_err_set(err, CONN_NOT_FOUND, "the key file %s does not exist", path);
        st = create_key_file(path, &raced, err);
        if (st != CONN_OK)
            return st;
        (void)raced; /* either way the file now exists: read it back */
    }
    return host_err_set(err, CONN_INTERNAL, "the key file %s vanished while it was created",
                        path);
}

conn_status host_seal(const host_key *key, const char *aad, size_t aad_len,
                      const char *plain, size_t len, unsigned char **out,
                      size_t *out_len, conn_error *err)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *buf = NULL, *nonce, *ct;
    conn_status st = CONN_INTERNAL;
    int n = 0, fin = 0;

    *out = NULL;
    *out_len = 0;
    if (len > (size_t)INT_MAX - HOST_SEALED_OVERHEAD || aad_len > (size_t)INT_MAX)
        return host_err_set(err, CONN_INVALID, "the secret is too large to encrypt");
    buf = malloc(len + HOST_SEALED_OVERHEAD);
    if (buf == NULL)
        return host_err_set(err, CONN_NOMEM, "out of memory encrypting a secret");
    buf[0] = HOST_SEALED_VERSION;
    nonce = buf + 1;
    ct = nonce + HOST_NONCE_BYTES;
    if (RAND_bytes(nonce, HOST_NONCE_BYTES) != 1) {
        host_err_set(err, CONN_INTERNAL, "no random bytes for a nonce (RAND_bytes failed)");
        goto out;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL ||
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, HOST_NONCE_BYTES, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, key->bytes, nonce) != 1 ||
        (aad_len > 0 &&
         EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)aad_len) != 1) ||
        (len > 0 &&
         EVP_EncryptUpdate(ctx, ct, &n, (const unsigned char *)plain, (int)len) != 1) ||
        EVP_EncryptFinal_ex(ctx, ct + (len > 0 ? n : 0), &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, HOST_TAG_BYTES, ct + len) != 1) {
        host_err_set(err, CONN_INTERNAL, "OpenSSL failed to encrypt a secret with AES-256-GCM");
        goto out;
    }
    *out = buf;
    *out_len = len + HOST_SEALED_OVERHEAD;
    buf = NULL;
    st = CONN_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    if (buf != NULL) {
        OPENSSL_cleanse(buf, len + HOST_SEALED_OVERHEAD);
        free(buf);
    }
    return st;
}

int host_unseal(const host_key *key, const char *aad, size_t aad_len,
                const unsigned char *sealed, size_t sealed_len, char **out,
                size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    const unsigned char *nonce, *ct, *tag;
    unsigned char tagcopy[HOST_TAG_BYTES];
    char *plain = NULL;
    size_t len;
    int n = 0, fin = 0, rc = -1;

    *out = NULL;
    *out_len = 0;
    if (sealed == NULL || sealed_len < HOST_SEALED_OVERHEAD || sealed[0] != HOST_SEALED_VERSION)
        return 0;
    len = sealed_len - HOST_SEALED_OVERHEAD;
    if (len > (size_t)INT_MAX || aad_len > (size_t)INT_MAX)
        return 0;
    nonce = sealed + 1;
    ct = nonce + HOST_NONCE_BYTES;
    tag = ct + len;
    memcpy(tagcopy, tag, sizeof(tagcopy)); /* the ctrl takes a non-const pointer */
    plain = malloc(len + 1);
    if (plain == NULL)
        goto out;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL ||
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, HOST_NONCE_BYTES, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, key->bytes, nonce) != 1 ||
        (aad_len > 0 &&
         EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)aad_len) != 1) ||
        (len > 0 && EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n, ct, (int)len) != 1) ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, HOST_TAG_BYTES, tagcopy) != 1)
        goto out;
    /* The tag is checked here; on mismatch the bytes in plain are discarded. */
    if (EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + (len > 0 ? n : 0), &fin) != 1) {
        rc = 0;
        goto out;
    }
    plain[len] = '\0';
    *out = plain;
    *out_len = len;
    plain = NULL;
    rc = 1;
out:
    EVP_CIPHER_CTX_free(ctx);
    if (plain != NULL) {
        OPENSSL_cleanse(plain, len + 1);
        free(plain);
    }
    return rc;
}
