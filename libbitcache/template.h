/* Page templates: a small subset of mustache, compiled once (at nginx
 * config time) and rendered many times.
 *
 *   {{name}}              the value, HTML-escaped (& < > " ' and nothing else)
 *   {{{name}}}            the value as is (only for markup we make, the QR SVG)
 *   {{#name}}...{{/name}} shown when the value is set, non-empty and not "0"
 *   {{^name}}...{{/name}} shown otherwise
 *   {{! comment }}        dropped
 *
 * Names are 1 to 64 of [A-Za-z0-9_.-], with optional spaces inside the braces.
 * Unknown names render as empty. Unlike full mustache there are no lists, no
 * partials, no delimiter changes, and whitespace around tags is kept as is. */
#ifndef BITCACHE_TEMPLATE_H
#define BITCACHE_TEMPLATE_H

#include <stddef.h>

typedef struct bc_template bc_template;

typedef struct {
    const char *name;
    const char *value;      /* NULL is the same as "" */
} bc_tvar;

/* Compiles len bytes of text (copied; the caller may free it). Returns NULL
 * on a syntax error or out of memory, with a message naming the line in err
 * (errlen bytes, NUL-terminated; err may be NULL). */
bc_template *bc_template_compile(const char *text, size_t len, char *err, size_t errlen);

void bc_template_free(bc_template *t);

/* Renders with vars (the first of equal names wins). Like snprintf: writes at
 * most outcap - 1 bytes and a NUL (out may be NULL when outcap is 0) and
 * returns the full length the output needs, without the NUL. */
size_t bc_template_render(char *out, size_t outcap, const bc_template *t,
                          const bc_tvar *vars, size_t nvars);

/* 1 if the template refers to name anywhere (so callers can skip computing
 * an expensive value such as the QR SVG), else 0. */
int bc_template_uses(const bc_template *t, const char *name);

#endif
