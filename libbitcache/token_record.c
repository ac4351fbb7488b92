#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "hex.h"
#include "token_record.h"

size_t
bc_tokrec_key(char *out, size_t outlen, const char *prefix, const unsigned char id[16])
{
    char idhex[33];
    int n;

    bc_hex_encode(idhex, id, 16);
    n = snprintf(out, outlen, "%s" BC_TOKREC_KIND "%s", prefix, idhex);
    return n > 0 && (size_t) n < outlen ? (size_t) n : 0;
}

int64_t
bc_tokrec_allowance(uint32_t uses, int64_t size)
{
    if (uses == 0) {
        return 0;
    }
    if (size <= 0) {
        return 1;
    }
    if (size > BC_TOKREC_BYTES_MAX / (int64_t) uses) {
        return BC_TOKREC_BYTES_MAX;
    }
    return (int64_t) uses * size;
}

void
bc_tokrec_hset(bc_tokrec_write *w, const char *key, size_t keylen, uint32_t uses,
    const unsigned char *product, size_t product_len, uint64_t expires)
{
    size_t i;

    snprintf(w->uses, sizeof(w->uses), "%u", (unsigned) uses);
    snprintf(w->expires, sizeof(w->expires), "%llu", (unsigned long long) expires);
    w->argv[0] = "HSET";
    w->argv[1] = key;
    w->argv[2] = BC_TOKREC_USES;
    w->argv[3] = w->uses;
    w->argv[4] = BC_TOKREC_PRODUCT;
    w->argv[5] = (const char *) product;
    w->argv[6] = BC_TOKREC_EXPIRES;
    w->argv[7] = w->expires;
    for (i = 0; i < 8; i++) {
        w->argvlen[i] = i == 1 ? keylen : i == 5 ? product_len : strlen(w->argv[i]);
    }
}

void
bc_tokrec_seed(bc_tokrec_seed_write *w, char *field, const char *key, size_t keylen,
    const unsigned char *product, size_t product_len)
{
    memcpy(field, BC_TOKREC_FILE, 2);
    memcpy(field + 2, product, product_len);
    snprintf(w->live, sizeof(w->live), "%lld", BC_TOKREC_LIVE);
    w->argv[0] = "HSETNX";
    w->argvlen[0] = 6;
    w->argv[1] = key;
    w->argvlen[1] = keylen;
    w->argv[2] = field;
    w->argvlen[2] = 2 + product_len;
    w->argv[3] = w->live;
    w->argvlen[3] = strlen(w->live);
}

bc_record_status
bc_tokrec_fast_result(long long reply, int64_t allowance)
{
    if (reply >= BC_TOKREC_REVOKED_BAND) {
        return BC_RECORD_REVOKED;
    }
    if (reply < BC_TOKREC_LIVE) {
        return BC_RECORD_ASK_SCRIPT;        /* no counter before: new file, or no record */
    }
    if (allowance == 0 || reply - BC_TOKREC_LIVE <= allowance) {
        return BC_RECORD_ALLOW;
    }
    return BC_RECORD_ASK_SCRIPT;            /* spent, unless a resume's credit covers it */
}

bc_record_status
bc_tokrec_draw_result(long long reply)
{
    switch (reply) {
    case -1: return BC_RECORD_UNKNOWN;
    case -2: return BC_RECORD_REVOKED;
    case -3: return BC_RECORD_USED_UP;
    }
    return reply >= 0 ? BC_RECORD_ALLOW : BC_RECORD_UNKNOWN;
}

const char *
bc_record_status_str(bc_record_status st)
{
    switch (st) {
    case BC_RECORD_ALLOW: return "allowed";
    case BC_RECORD_USED_UP: return "downloads used up";
    case BC_RECORD_UNKNOWN: return "unknown token";
    case BC_RECORD_REVOKED: return "token revoked";
    case BC_RECORD_ASK_SCRIPT: return "undecided";
    }
    return "?";
}

/* a decimal without sign, leading '+' or spaces, at most max */
static int
parse_dec(const char *s, size_t len, uint64_t max, uint64_t *v)
{
    size_t i;

    if (len == 0 || len > 20) {
        return 0;
    }
    for (*v = 0, i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || *v > (max - (uint64_t) (s[i] - '0')) / 10) {
            return 0;
        }
        *v = *v * 10 + (uint64_t) (s[i] - '0');
    }
    return 1;
}

static int
is_field(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

int
bc_tokrec_parse(bc_tokrec *rec, const char *const *kv, const size_t *kvlen, size_t n,
    char *err, size_t errlen)
{
    size_t i, plen = strlen(BC_TOKREC_FILE);
    uint64_t v;

    memset(rec, 0, sizeof(*rec));
    for (i = 0; i + 1 < n; i += 2) {
        const char *f = kv[i], *val = kv[i + 1];
        size_t flen = kvlen[i], vlen = kvlen[i + 1];

        if (is_field(f, flen, BC_TOKREC_USES)) {
            if (!parse_dec(val, vlen, UINT32_MAX, &v)) {
                snprintf(err, errlen, "\"uses\" is not a number of downloads");
                return 0;
            }
            rec->present = 1;
            rec->uses = (uint32_t) v;
        } else if (is_field(f, flen, BC_TOKREC_EXPIRES)) {
            if (!parse_dec(val, vlen, UINT64_MAX, &v)) {
                snprintf(err, errlen, "\"expires\" is not a time");
                return 0;
            }
            rec->expires = v;
        } else if (is_field(f, flen, BC_TOKREC_PRODUCT)) {
            rec->product = val;
            rec->product_len = vlen;
        } else if (is_field(f, flen, BC_TOKREC_REVOKED)) {
            rec->revoked = 1;
        } else if (flen > plen && memcmp(f, BC_TOKREC_FILE, plen) == 0) {
            if (!parse_dec(val, vlen, INT64_MAX, &v)) {
                snprintf(err, errlen, "a file's count is not a number of bytes");
                return 0;
            }
            if (v >= (uint64_t) BC_TOKREC_REVOKED_BAND) {
                v -= (uint64_t) BC_TOKREC_REVOKED_BAND;
            }
            v = v >= (uint64_t) BC_TOKREC_LIVE ? v - (uint64_t) BC_TOKREC_LIVE : 0;
            if (v > (uint64_t) BC_TOKREC_BYTES_MAX) {
                snprintf(err, errlen, "a file's count is not a number of bytes");
                return 0;
            }
            if (rec->nfiles == BC_TOKREC_FILES_MAX) {
                rec->more_files++;
                continue;
            }
            rec->files[rec->nfiles].name = f + plen;
            rec->files[rec->nfiles].name_len = flen - plen;
            rec->files[rec->nfiles].drawn = (int64_t) v;
            rec->nfiles++;
        }
        /* other fields ("left" of records made before bytes were counted): ignored */
    }
    return 1;
}

void
bc_script_sha1(char out[41], const char *script)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!EVP_Digest(script, strlen(script), md, &mdlen, EVP_sha1(), NULL) || mdlen != 20) {
        out[0] = '\0';
        return;
    }
    bc_hex_encode(out, md, 20);
}
