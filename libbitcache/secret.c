#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "hex.h"
#include "secret.h"

static const char label_token[] = "bitcache/v1/token";
static const char label_invoice[] = "bitcache/v1/invoice";
static const char label_seal[] = "bitcache/v1/seal";

void
bc_wipe(void *p, size_t len)
{
    OPENSSL_cleanse(p, len);
}

static void
derive_one(unsigned char *out, const unsigned char *secret, size_t len,
    const char *label)
{
    unsigned int outlen = BC_KEY_LEN;

    HMAC(EVP_sha256(), secret, (int) len, (const unsigned char *) label,
         strlen(label), out, &outlen);
}

int
bc_keys_derive(bc_keys *keys, const unsigned char *secret, size_t len)
{
    derive_one(keys->token_key, secret, len, label_token);
    derive_one(keys->invoice_key, secret, len, label_invoice);
    derive_one(keys->seal_key, secret, len, label_seal);
    keys->token_hmac = bc_hmac_key_new(keys->token_key, BC_KEY_LEN);
    keys->invoice_hmac = bc_hmac_key_new(keys->invoice_key, BC_KEY_LEN);
    keys->old = NULL;
    return keys->token_hmac != NULL && keys->invoice_hmac != NULL;
}

void
bc_keys_clear(bc_keys *keys)
{
    bc_hmac_key_free(keys->token_hmac);
    bc_hmac_key_free(keys->invoice_hmac);
    bc_wipe(keys, sizeof(*keys));
}

int
bc_keys_rotate(bc_keys *keys, const bc_keys *old)
{
    /* the token key is an HMAC of the secret: equal keys, equal secrets */
    if (CRYPTO_memcmp(keys->token_key, old->token_key, BC_KEY_LEN) == 0) {
        return 0;
    }
    keys->old = old;
    return 1;
}

int
bc_secret_load(bc_keys *keys, const char *path, char *err, size_t errlen)
{
    char text[2 * BC_SECRET_MAX + 64];
    unsigned char secret[BC_SECRET_MAX];
    struct stat st;
    ssize_t n;
    size_t len;
    int fd, ok = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path, strerror(errno));
        return 0;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "\"%s\" is not a regular file", path);
        goto done;
    }
    if (st.st_mode & (S_IRWXO | S_IWGRP)) {
        snprintf(err, errlen, "\"%s\" is accessible by others (mode %04o), "
                 "chmod 600 it", path, (unsigned) (st.st_mode & 07777));
        goto done;
    }
    n = read(fd, text, sizeof(text) - 1);
    if (n < 0) {
        snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
        goto done;
    }
    len = (size_t) n;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'
                       || text[len - 1] == ' ' || text[len - 1] == '\t'))
    {
        len--;
    }
    if (len < 2 * BC_SECRET_MIN || len > 2 * BC_SECRET_MAX || len % 2) {
        snprintf(err, errlen, "\"%s\" must hold %d to %d random bytes as hex "
                 "(make one with `bitcache secret`)", path, BC_SECRET_MIN,
                 BC_SECRET_MAX);
        goto done;
    }
    if (!bc_hex_decode(secret, len / 2, text, len)) {
        snprintf(err, errlen, "\"%s\" holds something other than hex digits", path);
        goto done;
    }
    if (!bc_keys_derive(keys, secret, len / 2)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    ok = 1;

done:
    bc_wipe(text, sizeof(text));
    bc_wipe(secret, sizeof(secret));
    close(fd);
    return ok;
}

int
bc_secret_generate(char *out, size_t len)
{
    unsigned char buf[BC_SECRET_MAX];

    if (len > sizeof(buf) || RAND_bytes(buf, (int) len) != 1) {
        return 0;
    }
    bc_hex_encode(out, buf, len);
    bc_wipe(buf, sizeof(buf));
    return 1;
}
