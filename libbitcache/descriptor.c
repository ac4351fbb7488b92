/* Written from BIP380 (checksum, key expressions), BIP381 (pkh, sh),
 * BIP382 (wpkh) and BIP386 (tr). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.h"
#include "hex.h"

static const char input_charset[] =
    "0123456789()[],'/*abcdefgh@:$%{}"
    "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~"
    "ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
static const char checksum_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint64_t
polymod_step(uint64_t chk, unsigned v)
{
    static const uint64_t gen[5] = {
        0xf5dee51989ULL, 0xa9fdca3312ULL, 0x1bab10e32dULL, 0x3706b1677aULL, 0x644d626ffdULL
    };
    uint64_t top = chk >> 35;
    int i;

    chk = ((chk & 0x7ffffffffULL) << 5) ^ v;
    for (i = 0; i < 5; i++) {
        if ((top >> i) & 1) {
            chk ^= gen[i];
        }
    }
    return chk;
}

int
bc_descriptor_checksum(char out[9], const char *desc, size_t len)
{
    uint64_t chk = 1;
    unsigned groups[3];
    size_t ngroups = 0, i;

    for (i = 0; i < len; i++) {
        const char *p = desc[i] ? strchr(input_charset, desc[i]) : NULL;
        unsigned v;

        if (p == NULL) {
            return 0;
        }
        v = (unsigned) (p - input_charset);
        /* each character's position within its group of 32 is a symbol;
         * after every third character the three group numbers are one more */
        chk = polymod_step(chk, v & 31);
        groups[ngroups++] = v >> 5;
        if (ngroups == 3) {
            chk = polymod_step(chk, groups[0] * 9 + groups[1] * 3 + groups[2]);
            ngroups = 0;
        }
    }
    if (ngroups == 1) {
        chk = polymod_step(chk, groups[0]);
    } else if (ngroups == 2) {
        chk = polymod_step(chk, groups[0] * 3 + groups[1]);
    }
    for (i = 0; i < 8; i++) {
        chk = polymod_step(chk, 0);
    }
    chk ^= 1;
    for (i = 0; i < 8; i++) {
        out[i] = checksum_charset[(chk >> (5 * (7 - i))) & 31];
    }
    out[8] = '\0';
    return 1;
}

int
bc_descriptor_is(const char *text)
{
    return strchr(text, '(') != NULL;
}

/* Parser state: the text and the position reached, for error messages. */
typedef struct {
    const char *s;
    size_t pos, end;
    const char **err;
} cursor;

static int
fail(cursor *c, const char *what)
{
    static char msg[200];

    snprintf(msg, sizeof(msg), "descriptor syntax: %s at character %zu", what, c->pos + 1);
    *c->err = msg;
    return 0;
}

static int
take(cursor *c, const char *lit)
{
    size_t n = strlen(lit);

    if (c->end - c->pos >= n && memcmp(c->s + c->pos, lit, n) == 0) {
        c->pos += n;
        return 1;
    }
    return 0;
}

/* a decimal child number below 2^31, then h, H or ' when hardened allowed */
static int
parse_step(cursor *c, uint32_t *step, int hardened_ok)
{
    unsigned long v = 0;
    size_t start = c->pos;

    while (c->pos < c->end && isdigit((unsigned char) c->s[c->pos])) {
        v = v * 10 + (unsigned long) (c->s[c->pos] - '0');
        if (v >= BC_HARDENED) {
            return fail(c, "child number 2^31 or more");
        }
        c->pos++;
    }
    if (c->pos == start) {
        return fail(c, "expected a child number");
    }
    if (c->pos - start > 1 && c->s[start] == '0') {
        c->pos = start;
        return fail(c, "child number with a leading zero");
    }
    *step = (uint32_t) v;
    if (c->pos < c->end && strchr("h'", c->s[c->pos]) != NULL) {
        if (!hardened_ok) {
            return fail(c, "hardened step after an extended public key (needs the private "
                        "key; give the xpub of the hardened level)");
        }
        *step |= BC_HARDENED;
        c->pos++;
    }
    return 1;
}

static int
parse_origin(cursor *c, bc_descriptor *d)
{
    if (!take(c, "[")) {
        return 1;
    }
    d->has_origin = 1;
    if (c->end - c->pos < 8 || !bc_hex_decode(d->origin_fingerprint, 4, c->s + c->pos, 8)
        || (c->end - c->pos > 8 && isxdigit((unsigned char) c->s[c->pos + 8])))
    {
        return fail(c, "key origin needs 8 hex digits of fingerprint");
    }
    c->pos += 8;
    while (take(c, "/")) {
        if (d->origin_steps == BC_DESC_MAX_STEPS) {
            return fail(c, "key origin path too long");
        }
        if (!parse_step(c, &d->origin_path[d->origin_steps++], 1)) {
            return 0;
        }
    }
    if (!take(c, "]")) {
        return fail(c, "expected '/' or ']' in the key origin");
    }
    return 1;
}

static int
parse_key(cursor *c, bc_descriptor *d)
{
    size_t start;

    if (!parse_origin(c, d)) {
        return 0;
    }
    start = c->pos;
    while (c->pos < c->end && isalnum((unsigned char) c->s[c->pos])) {
        c->pos++;
    }
    if (c->pos == start) {
        return fail(c, "expected an extended public key");
    }
    if (c->pos - start >= sizeof(d->key)) {
        c->pos = start;
        return fail(c, "key too long for an extended key");
    }
    memcpy(d->key, c->s + start, c->pos - start);
    d->key[c->pos - start] = '\0';
    if (bc_key_is_private(d->key, c->err)) {
        return 0;
    }
    for (;;) {
        if (!take(c, "/")) {
            return fail(c, "expected '/*' after the key (Bitcache needs a ranged key, "
                        "e.g. KEY/0/*)");
        }
        if (take(c, "*")) {
            break;
        }
        if (d->steps == BC_DESC_MAX_STEPS) {
            return fail(c, "derivation path too long");
        }
        if (!parse_step(c, &d->path[d->steps++], 0)) {
            return 0;
        }
    }
    if (c->pos < c->end && strchr("h'", c->s[c->pos]) != NULL) {
        return fail(c, "hardened wildcard needs the private key");
    }
    return 1;
}

int
bc_descriptor_check(size_t *body, const char *text, const char **err)
{
    static char msg[200];
    const char *hash = strchr(text, '#');
    size_t len = strlen(text);
    char sum[9];

    if (len > BC_DESC_MAX_LEN) {
        *err = "descriptor too long";
        return 0;
    }
    *body = hash != NULL ? (size_t) (hash - text) : len;
    if (!bc_descriptor_checksum(sum, text, *body)) {
        *err = "descriptor has a character outside the descriptor character set";
        return 0;
    }
    if (hash == NULL) {
        return 1;
    }
    if (len - *body - 1 != 8) {
        snprintf(msg, sizeof(msg), "descriptor checksum must be 8 characters after '#', "
                 "got %zu", len - *body - 1);
        *err = msg;
        return 0;
    }
    if (memcmp(sum, hash + 1, 8) != 0) {
        snprintf(msg, sizeof(msg), "bad descriptor checksum '%.8s' (expected '%s' for "
                 "this text; a mistyped descriptor?)", hash + 1, sum);
        *err = msg;
        return 0;
    }
    return 1;
}

int
bc_descriptor_parse(bc_descriptor *d, const char *text, const char **err)
{
    cursor c = { text, 0, strlen(text), err };
    int depth;

    memset(d, 0, sizeof(*d));
    if (!bc_descriptor_check(&c.end, text, err)) {
        return 0;
    }
    d->has_checksum = c.end != strlen(text);
    if (take(&c, "pkh(")) {
        d->type = BC_P2PKH;
        depth = 1;
    } else if (take(&c, "wpkh(")) {
        d->type = BC_P2WPKH;
        depth = 1;
    } else if (take(&c, "sh(")) {
        if (!take(&c, "wpkh(")) {
            return fail(&c, "Bitcache supports sh(wpkh(KEY)) only; expected 'wpkh('");
        }
        d->type = BC_P2SH_P2WPKH;
        depth = 2;
    } else if (take(&c, "tr(")) {
        d->type = BC_P2TR;
        depth = 1;
    } else {
        return fail(&c, "expected pkh(, wpkh(, sh(wpkh( or tr(");
    }
    if (!parse_key(&c, d)) {
        return 0;
    }
    while (depth-- > 0) {
        if (!take(&c, ")")) {
            return fail(&c, c.pos < c.end && c.s[c.pos] == ',' && d->type == BC_P2TR
                        ? "tr() with a script tree is not supported (key path only)"
                        : "expected ')'");
        }
    }
    if (c.pos != c.end) {
        return fail(&c, "unexpected text after the descriptor");
    }
    return 1;
}

static int append(char *out, size_t outlen, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
append(char *out, size_t outlen, size_t *n, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(out + *n, outlen - *n, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t) r >= outlen - *n) {
        return 0;
    }
    *n += (size_t) r;
    return 1;
}

static int
append_step(char *out, size_t outlen, size_t *n, uint32_t step)
{
    return append(out, outlen, n, "/%u%s", (unsigned) (step & ~BC_HARDENED),
                  (step & BC_HARDENED) ? "h" : "");
}

int
bc_descriptor_format(char *out, size_t outlen, const bc_descriptor *d)
{
    static const char *open[] = { "pkh(", "sh(wpkh(", "wpkh(", "tr(" };
    static const char *close[] = { ")", "))", ")", ")" };
    size_t n = 0, i;
    char sum[9];

    if (outlen == 0 || !append(out, outlen, &n, "%s", open[d->type])) {
        return 0;
    }
    if (d->has_origin) {
        if (!append(out, outlen, &n, "[%02x%02x%02x%02x", d->origin_fingerprint[0],
                    d->origin_fingerprint[1], d->origin_fingerprint[2],
                    d->origin_fingerprint[3]))
        {
            return 0;
        }
        for (i = 0; i < d->origin_steps; i++) {
            if (!append_step(out, outlen, &n, d->origin_path[i])) {
                return 0;
            }
        }
        if (!append(out, outlen, &n, "]")) {
            return 0;
        }
    }
    if (!append(out, outlen, &n, "%s", d->key)) {
        return 0;
    }
    for (i = 0; i < d->steps; i++) {
        if (!append_step(out, outlen, &n, d->path[i])) {
            return 0;
        }
    }
    if (!append(out, outlen, &n, "/*%s", close[d->type])
        || !bc_descriptor_checksum(sum, out, n))
    {
        return 0;
    }
    return append(out, outlen, &n, "#%s", sum);
}
