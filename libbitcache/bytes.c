#include <string.h>

#include "bytes.h"

void
bc_writer_init(bc_writer *w, unsigned char *buf, size_t cap)
{
    w->p = buf;
    w->len = 0;
    w->cap = cap;
    w->overflow = 0;
}

void
bc_put_bytes(bc_writer *w, const void *data, size_t len)
{
    if (w->overflow || len > w->cap - w->len) {
        w->overflow = 1;
        return;
    }
    if (len) {
        memcpy(w->p + w->len, data, len);
    }
    w->len += len;
}

void
bc_put_uint(bc_writer *w, uint64_t v, int bytes)
{
    unsigned char b[8];
    int i;

    for (i = bytes - 1; i >= 0; i--) {
        b[i] = (unsigned char) (v & 0xff);
        v >>= 8;
    }
    bc_put_bytes(w, b, (size_t) bytes);
}

void
bc_put_lp(bc_writer *w, const void *data, size_t len)
{
    if (len > 0xffff) {
        w->overflow = 1;
        return;
    }
    bc_put_uint(w, len, 2);
    bc_put_bytes(w, data, len);
}

void
bc_reader_init(bc_reader *r, const unsigned char *buf, size_t len)
{
    r->p = buf;
    r->len = len;
    r->pos = 0;
    r->bad = 0;
}

const unsigned char *
bc_get_bytes(bc_reader *r, size_t len)
{
    const unsigned char *at;

    if (r->bad || len > r->len - r->pos) {
        r->bad = 1;
        return NULL;
    }
    at = r->p + r->pos;
    r->pos += len;
    return at;
}

uint64_t
bc_get_uint(bc_reader *r, int bytes)
{
    const unsigned char *b = bc_get_bytes(r, (size_t) bytes);
    uint64_t v = 0;
    int i;

    if (b == NULL) {
        return 0;
    }
    for (i = 0; i < bytes; i++) {
        v = v << 8 | b[i];
    }
    return v;
}

size_t
bc_get_lp(bc_reader *r, const unsigned char **data)
{
    size_t len = (size_t) bc_get_uint(r, 2);

    *data = bc_get_bytes(r, len);
    return *data ? len : 0;
}
