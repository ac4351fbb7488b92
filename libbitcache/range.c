#include <string.h>

#include "range.h"

#define OFF_MAX  INT64_MAX

/* the byte at p, or 0 past the end: nginx reads up to the header's NUL */
static int
at(const char *p, const char *end)
{
    return p < end ? (unsigned char) *p : 0;
}

static int
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static const char *
skip_spaces(const char *p, const char *end)
{
    while (at(p, end) == ' ') {
        p++;
    }
    return p;
}

/* Reads digits into *v; 0 if there were none or they overflow. */
static int
number(const char **pp, const char *end, int64_t *v)
{
    const char *p = *pp;
    int d;

    if (!is_digit(at(p, end))) {
        return 0;
    }
    for (*v = 0; is_digit(d = at(p, end)); p++) {
        if (*v > (OFF_MAX - (d - '0')) / 10) {
            return 0;
        }
        *v = *v * 10 + (d - '0');
    }
    *pp = p;
    return 1;
}

static void
plan_set(bc_range_plan *p, int status, unsigned parts, int64_t bytes, int64_t start)
{
    p->status = status;
    p->parts = parts;
    p->bytes = bytes;
    p->start = start;
}

static int
prefix_ok(const char *r, size_t len)
{
    static const char want[] = "bytes=";
    size_t i;

    if (len < 7) {
        return 0;
    }
    for (i = 0; i < 6; i++) {
        int c = (unsigned char) r[i];

        if (c >= 'A' && c <= 'Z') {
            c += 'a' - 'A';
        }
        if (c != want[i]) {
            return 0;
        }
    }
    return 1;
}

void
bc_range_plan_get(bc_range_plan *p, const char *range, size_t len, int64_t size,
    uint32_t max_ranges)
{
    const char *s, *end;
    int64_t start, last, total = 0, first = 0;
    uint64_t left = max_ranges;     /* ranges allowed before declining */
    unsigned parts = 0;
    int suffix;

    plan_set(p, 200, 1, size, 0);   /* no usable Range: the whole file */

    if (range != NULL) {
        len = strnlen(range, len);      /* a NUL ends it, as in nginx */
    }
    if (range == NULL || max_ranges == 0 || size < 0 || !prefix_ok(range, len)) {
        return;
    }
    s = range + 6;
    end = range + len;

    for (;;) {
        start = 0;
        last = 0;
        suffix = 0;
        s = skip_spaces(s, end);

        if (at(s, end) != '-') {
            if (!number(&s, end, &start)) {
                goto unsatisfiable;
            }
            s = skip_spaces(s, end);
            if (at(s, end) != '-') {
                goto unsatisfiable;
            }
            s = skip_spaces(s + 1, end);
            if (at(s, end) == ',' || at(s, end) == 0) {
                last = size;                /* "N-": to the end */
                goto found;
            }
        } else {
            suffix = 1;
            s++;
        }

        if (!number(&s, end, &last)) {
            goto unsatisfiable;
        }
        s = skip_spaces(s, end);
        if (at(s, end) != ',' && at(s, end) != 0) {
            goto unsatisfiable;
        }
        if (suffix) {                       /* "-N": the last N bytes */
            start = last < size ? size - last : 0;
            last = size - 1;
        }
        last = last >= size ? size : last + 1;  /* exclusive from here */

    found:
        if (start < last) {
            if (total > OFF_MAX - (last - start)) {
                goto unsatisfiable;
            }
            total += last - start;
            if (parts++ == 0) {
                first = start;
            }
            if (left-- == 0) {
                return;                     /* too many: the whole file */
            }
        } else if (start == 0) {
            return;                         /* nginx declines: the whole file */
        }

        if (at(s, end) != ',') {
            break;
        }
        s++;
    }

    if (parts == 0) {
        goto unsatisfiable;
    }
    if (total > size) {
        return;                             /* overlaps add up past the file */
    }
    plan_set(p, 206, parts, total, parts == 1 ? first : -1);
    return;

unsatisfiable:
    plan_set(p, 416, 0, 0, -1);
}
