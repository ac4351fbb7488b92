/* Token v1 against the vectors in t/vectors/token.tsv (made by an
 * independent Perl implementation, t/lib/TokenRef.pm), and every way a
 * token can be wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hex.h"
#include "secret.h"
#include "tap.h"
#include "token.h"

static void
check_vector(char **f)
{
    unsigned char secret[128], buf[BC_TOKEN_MAX_BYTES];
    char out[BC_TOKEN_MAX_CHARS + 1], hex[65], bad[BC_TOKEN_MAX_CHARS + 1];
    size_t slen = strlen(f[0]) / 2, tlen = strlen(f[6]), i, fails;
    bc_keys keys;
    bc_token t, p;
    uint64_t expires = strtoull(f[2], NULL, 10);

    ok(bc_hex_decode(secret, slen, f[0], strlen(f[0])), "secret hex of %s", f[4]);
    bc_keys_derive(&keys, secret, slen);
    bc_hex_encode(hex, keys.token_key, 32);
    is_str(hex, f[5], "token key of %s", f[4]);

    ok(bc_hex_decode(t.id, 16, f[1], 32), "id hex");
    t.expires = expires;
    t.uses = (uint32_t) strtoul(f[3], NULL, 10);
    t.product = (const unsigned char *) f[4];
    t.product_len = strlen(f[4]);
    ok(bc_token_encode(out, &t, &keys) == tlen, "encoded length");
    is_str(out, f[6], "token of %s", f[4]);

    ok(bc_token_verify(&p, buf, f[6], tlen, &keys, expires - 1, t.product,
                       t.product_len) == BC_TOKEN_OK, "verifies");
    ok(p.expires == t.expires && p.uses == t.uses && memcmp(p.id, t.id, 16) == 0
       && p.product_len == t.product_len
       && memcmp(p.product, t.product, t.product_len) == 0, "fields parsed back");
    ok(bc_token_verify(&p, buf, f[6], tlen, &keys, expires, t.product,
                       t.product_len) == BC_TOKEN_EXPIRED, "expired at expiry");
    ok(bc_token_verify(&p, buf, f[6], tlen, &keys, 0, (const unsigned char *) "/other", 6)
       == BC_TOKEN_WRONG_PRODUCT, "other product refused");

    /* every single-character change is refused */
    fails = 0;
    for (i = 0; i < tlen; i++) {
        memcpy(bad, f[6], tlen + 1);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        if (bc_token_verify(&p, buf, bad, tlen, &keys, 0, t.product, t.product_len)
            == BC_TOKEN_OK)
        {
            fails++;
        }
    }
    ok(fails == 0, "all %zu one-character tamperings refused", tlen);

    fails = 0;
    for (i = 0; i < tlen; i++) {
        if (bc_token_verify(&p, buf, f[6], i, &keys, 0, t.product, t.product_len)
            == BC_TOKEN_OK)
        {
            fails++;
        }
    }
    ok(fails == 0, "all %zu truncations refused", tlen);

    bc_keys_clear(&keys);
    secret[0] ^= 1;
    bc_keys_derive(&keys, secret, slen);
    ok(bc_token_verify(&p, buf, f[6], tlen, &keys, 0, t.product, t.product_len)
       == BC_TOKEN_BAD_MAC, "another secret's token refused as bad MAC");
    bc_keys_clear(&keys);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static void
check_secret_files(void)
{
    char dir[] = "/tmp/bitcache-unit-XXXXXX", path[256], err[512];
    const char *good = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    bc_keys keys;
    char hex[65];

    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
        return;
    }
    snprintf(path, sizeof(path), "%s/secret", dir);

    write_file(path, good, 0600);
    ok(bc_secret_load(&keys, path, err, sizeof(err)), "0600 hex secret loads");
    bc_hex_encode(hex, keys.token_key, 32);
    is_str(hex, "57b52627e4d8b9f00efe7a4f3f215aa706c889f7fca0504749361db3225e22b4",
           "same key as the vector");
    bc_keys_clear(&keys);

    chmod(path, 0644);
    ok(!bc_secret_load(&keys, path, err, sizeof(err)) && strstr(err, "accessible by others"),
       "world-readable refused: %s", err);

    write_file(path, "0001020304050607\n", 0600);
    ok(!bc_secret_load(&keys, path, err, sizeof(err)) && strstr(err, "32 to 128"),
       "short refused: %s", err);

    write_file(path, "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 0600);
    ok(!bc_secret_load(&keys, path, err, sizeof(err)) && strstr(err, "hex"),
       "non-hex refused: %s", err);

    unlink(path);
    ok(!bc_secret_load(&keys, path, err, sizeof(err)) && strstr(err, "cannot open"),
       "missing refused: %s", err);
    rmdir(dir);
}

int
main(void)
{
    char line[4096], *f[8], *save;
    FILE *in = fopen("t/vectors/token.tsv", "r");
    unsigned char buf[BC_TOKEN_MAX_BYTES];
    char big[8193];
    bc_token p;
    bc_keys keys;
    int n = 0, k;

    ok(in != NULL, "t/vectors/token.tsv opens (run from the repository root)");
    while (in && fgets(line, sizeof(line), in)) {
        if (line[0] == '#') continue;
        line[strcspn(line, "\n")] = '\0';
        for (k = 0, f[0] = strtok_r(line, "\t", &save); k < 7 && f[k];
             f[++k] = strtok_r(NULL, "\t", &save)) { }
        ok(k == 7, "vector line has 7 fields");
        if (k == 7) {
            check_vector(f);
            n++;
        }
    }
    if (in) fclose(in);
    ok(n >= 3, "%d vectors", n);

    memset(big, 7, 32);
    bc_keys_derive(&keys, (unsigned char *) big, 32);
    memset(big, 'A', sizeof(big) - 1);
    big[8192] = '\0';
    ok(bc_token_verify(&p, buf, big, 8192, &keys, 0, (const unsigned char *) "x", 1)
       == BC_TOKEN_MALFORMED, "8 KiB token is malformed before any decoding");
    ok(bc_token_verify(&p, buf, "AQ*", 3, &keys, 0, (const unsigned char *) "x", 1)
       == BC_TOKEN_MALFORMED, "non-alphabet character");
    ok(bc_token_verify(&p, buf, "", 0, &keys, 0, (const unsigned char *) "x", 1)
       == BC_TOKEN_MALFORMED, "empty");

    bc_keys_clear(&keys);
    check_secret_files();
    return done_testing();
}
