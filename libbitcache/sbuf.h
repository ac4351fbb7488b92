/* A text sink with snprintf semantics, shared by the template renderer and
 * the QR SVG writer: it writes what fits into out[cap - 1], always counts the
 * full length, and bc_sbuf_end NUL-terminates whatever fitted. */
#ifndef BITCACHE_SBUF_H
#define BITCACHE_SBUF_H

#include <stddef.h>
#include <string.h>

typedef struct {
    char *out;
    size_t cap;     /* bytes at out, including room for the NUL */
    size_t len;     /* full length so far, may exceed cap */
} bc_sbuf;

static inline void
bc_sbuf_init(bc_sbuf *b, char *out, size_t cap)
{
    b->out = out;
    b->cap = out ? cap : 0;
    b->len = 0;
}

static inline void
bc_sbuf_put(bc_sbuf *b, const char *s, size_t n)
{
    if (b->len < b->cap) {
        size_t room = b->cap - 1 - b->len;
        memcpy(b->out + b->len, s, n < room ? n : room);
    }
    b->len += n;
}

static inline void
bc_sbuf_puts(bc_sbuf *b, const char *s)
{
    bc_sbuf_put(b, s, strlen(s));
}

/* NUL-terminates (at the end, or at the last byte when cut) and returns the
 * full length. */
static inline size_t
bc_sbuf_end(bc_sbuf *b)
{
    if (b->cap)
        b->out[b->len < b->cap ? b->len : b->cap - 1] = '\0';
    return b->len;
}

#endif
