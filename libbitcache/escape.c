#include <string.h>

#include "escape.h"

static const char hexd[] = "0123456789abcdef";

/* The length of the valid UTF-8 sequence at s[0..len) (2 to 4), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;           /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;           /* at most U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return n;
}

static char *
put_u(char *d, unsigned v)
{
    *d++ = '\\';
    *d++ = 'u';
    *d++ = hexd[(v >> 12) & 15];
    *d++ = hexd[(v >> 8) & 15];
    *d++ = hexd[(v >> 4) & 15];
    *d++ = hexd[v & 15];
    return d;
}

size_t
bc_json_escape(char *dst, const unsigned char *src, size_t len)
{
    char *d = dst;
    size_t i = 0, n;
    unsigned char c;

    while (i < len) {
        c = src[i];
        if (c == '"' || c == '\\') {
            *d++ = '\\';
            *d++ = (char) c;
            i++;
        } else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
            d = put_u(d, c);
            i++;
        } else if (c < 0x80) {
            *d++ = (char) c;
            i++;
        } else if ((n = utf8_seq(src + i, len - i)) == 0) {
            d = put_u(d, 0xfffd);
            i++;
        } else if (n == 3 && c == 0xe2 && src[i + 1] == 0x80
                   && (src[i + 2] == 0xa8 || src[i + 2] == 0xa9))
        {
            d = put_u(d, src[i + 2] == 0xa8 ? 0x2028 : 0x2029);
            i += 3;
        } else {
            memcpy(d, src + i, n);
            d += n;
            i += n;
        }
    }
    return (size_t) (d - dst);
}

size_t
bc_path_escape(char *dst, const unsigned char *src, size_t len)
{
    char *d = dst;
    size_t i;
    unsigned char c;

    for (i = 0; i < len; i++) {
        c = src[i];
        if (((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
             || (c != 0 && strchr("-._~/!$&()*+=:@", c) != NULL))
            /* "//host" would be a link to another host: %2F is the same
             * path once nginx decodes it */
            && !(i == 1 && c == '/' && src[0] == '/'))
        {
            *d++ = (char) c;
        } else {
            *d++ = '%';
            *d++ = "0123456789ABCDEF"[c >> 4];
            *d++ = "0123456789ABCDEF"[c & 15];
        }
    }
    return (size_t) (d - dst);
}

size_t
bc_log_escape(char *dst, const unsigned char *src, size_t len)
{
    char *d = dst;
    size_t i;
    unsigned char c;

    for (i = 0; i < len; i++) {
        c = src[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *d++ = (char) c;
        } else {
            *d++ = '\\';
            *d++ = 'x';
            *d++ = hexd[c >> 4];
            *d++ = hexd[c & 15];
        }
    }
    return (size_t) (d - dst);
}


const char *
bc_log_text(char *buf, size_t cap, const void *src, size_t len)
{
    const unsigned char *s = src;
    char one[4];
    size_t n = 0, i, w, whole = 0;

    if (cap < 4) {
        /* no room for "...": nothing (callers give at least 8) */
        if (cap > 0) {
            buf[0] = '\0';
        }
        return buf;
    }
    if (s == NULL) {
        len = 0;
    }
    /* each byte takes at least one character: only the first cap bytes
     * can tell whether the whole fits (a server may send megabytes) */
    for (i = 0; i < len && i < cap; i++) {
        whole += bc_log_escape(one, s + i, 1);
    }
    for (i = 0; i < len; i++) {
        w = bc_log_escape(one, s + i, 1);
        if (whole >= cap && n + w + 4 > cap) {
            /* it does not all fit: keep room for "..." and the NUL */
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        memcpy(buf + n, one, w);
        n += w;
    }
    buf[n] = '\0';
    return buf;
}


size_t
bc_error_word_len(const char *s, size_t len)
{
    const char *sp;

    if (s == NULL) {
        return 0;
    }
    sp = memchr(s, ' ', len);
    return sp ? (size_t) (sp - s) : len;
}
