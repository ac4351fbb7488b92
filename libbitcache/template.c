/* Page templates: see template.h. A template compiles to a flat array of
 * nodes; a section node holds the index of its end node, so rendering is one
 * loop that jumps over hidden sections. */
#define _GNU_SOURCE     /* memmem */
#include "template.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

#define BC_TEMPLATE_NAME_MAX 64
#define BC_TEMPLATE_DEPTH_MAX 32

enum { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_END };

typedef struct {
    uint8_t type;
    uint32_t off, len;      /* text, or the name, inside t->text */
    uint32_t end;           /* sections: index of the matching N_END */
} bc_tnode;

struct bc_template {
    char *text;
    bc_tnode *nodes;
    size_t n, cap;
};

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int
add_node(bc_template *t, int type, size_t off, size_t len)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        bc_tnode *p = realloc(t->nodes, cap * sizeof(*p));
        if (p == NULL)
            return 0;
        t->nodes = p;
        t->cap = cap;
    }
    t->nodes[t->n].type = (uint8_t) type;
    t->nodes[t->n].off = (uint32_t) off;
    t->nodes[t->n].len = (uint32_t) len;
    t->nodes[t->n].end = 0;
    t->n++;
    return 1;
}

static int
name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '_' || c == '.' || c == '-';
}

static size_t
count_lines(const char *s, size_t n)
{
    size_t lines = 0;

    for (size_t i = 0; i < n; i++)
        lines += s[i] == '\n';
    return lines;
}

/* the part of a bad name shown in an error: up to 40 bytes, one line */
static int
shown_len(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && i < 40 && s[i] != '\n' && s[i] != '\r')
        i++;
    return (int) i;
}

bc_template *
bc_template_compile(const char *text, size_t len, char *err, size_t errlen)
{
    bc_template *t;
    size_t pos = 0, line = 1;
    size_t stack[BC_TEMPLATE_DEPTH_MAX], stack_line[BC_TEMPLATE_DEPTH_MAX];
    size_t depth = 0;

    set_err(err, errlen, "out of memory");
    if (len > UINT32_MAX - 1) {
        set_err(err, errlen, "template too large");
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->text = malloc(len + 1);
    if (t->text == NULL)
        goto fail;
    if (len)
        memcpy(t->text, text, len);
    t->text[len] = '\0';
    text = t->text;

    while (pos < len) {
        const char *open = memmem(text + pos, len - pos, "{{", 2);
        size_t start, inner, inner_end, close_len, tag_line;
        int type;
        char sigil;

        if (open == NULL) {
            if (!add_node(t, N_TEXT, pos, len - pos))
                goto fail;
            break;
        }
        start = (size_t) (open - text);
        if (start > pos && !add_node(t, N_TEXT, pos, start - pos))
            goto fail;
        line += count_lines(text + pos, start - pos);
        tag_line = line;

        /* {{{name}}} or {{...}} */
        {
            int triple = start + 2 < len && text[start + 2] == '{';
            size_t olen = triple ? 3 : 2;
            const char *closer = triple ? "}}}" : "}}";
            const char *close = memmem(text + start + olen, len - start - olen, closer, olen);
            if (close == NULL) {
                set_err(err, errlen, "line %zu: unterminated tag '%.*s' (no '%s')", tag_line,
                        (int) olen, "{{{", closer);
                goto fail;
            }
            inner = start + olen;
            inner_end = (size_t) (close - text);
            close_len = olen;
            sigil = triple ? '{' : '\0';
        }
        if (sigil != '{') {
            sigil = inner < inner_end ? text[inner] : '\0';
            if (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!' || sigil == '&')
                inner++;
            else
                sigil = '\0';
        }
        line += count_lines(text + start, inner_end + close_len - start);
        pos = inner_end + close_len;
        if (sigil == '!')
            continue;

        while (inner < inner_end && (text[inner] == ' ' || text[inner] == '\t'))
            inner++;
        while (inner_end > inner && (text[inner_end - 1] == ' ' || text[inner_end - 1] == '\t'))
            inner_end--;
        {
            size_t n = inner_end - inner;
            int good = n > 0 && n <= BC_TEMPLATE_NAME_MAX;
            for (size_t i = inner; good && i < inner_end; i++)
                good = name_char(text[i]);
            if (!good) {
                set_err(err, errlen, "line %zu: bad name '%.*s' (want 1 to %d of A-Z a-z 0-9 _ . -)",
                        tag_line, shown_len(text + inner, n), text + inner,
                        BC_TEMPLATE_NAME_MAX);
                goto fail;
            }
        }

        switch (sigil) {
        case '{': case '&': type = N_RAW; break;
        case '#': type = N_SECTION; break;
        case '^': type = N_INVERTED; break;
        case '/': type = N_END; break;
        default: type = N_VAR; break;
        }

        if (type == N_END) {
            bc_tnode *o;
            if (depth == 0) {
                set_err(err, errlen, "line %zu: '{{/%.*s}}' closes no open section",
                        tag_line, (int) (inner_end - inner), text + inner);
                goto fail;
            }
            o = &t->nodes[stack[depth - 1]];
            if (o->len != inner_end - inner || memcmp(text + o->off, text + inner, o->len) != 0) {
                set_err(err, errlen, "line %zu: '{{/%.*s}}' does not match '{{%c%.*s}}' "
                        "opened on line %zu", tag_line, (int) (inner_end - inner), text + inner,
                        o->type == N_SECTION ? '#' : '^', (int) o->len, text + o->off,
                        stack_line[depth - 1]);
                goto fail;
            }
            o->end = (uint32_t) t->n;
            depth--;
        } else if (type == N_SECTION || type == N_INVERTED) {
            if (depth == BC_TEMPLATE_DEPTH_MAX) {
                set_err(err, errlen, "line %zu: sections nested deeper than %d", tag_line,
                        BC_TEMPLATE_DEPTH_MAX);
                goto fail;
            }
            stack[depth] = t->n;
            stack_line[depth] = tag_line;
            depth++;
        }
        if (!add_node(t, type, inner, inner_end - inner))
            goto fail;
    }

    if (depth) {
        bc_tnode *o = &t->nodes[stack[depth - 1]];
        set_err(err, errlen, "line %zu: section '{{%c%.*s}}' is not closed",
                stack_line[depth - 1], o->type == N_SECTION ? '#' : '^', (int) o->len,
                text + o->off);
        goto fail;
    }
    set_err(err, errlen, "ok");
    return t;

fail:
    bc_template_free(t);
    return NULL;
}

void
bc_template_free(bc_template *t)
{
    if (t == NULL)
        return;
    free(t->nodes);
    free(t->text);
    free(t);
}

static const char *
lookup(const bc_template *t, const bc_tnode *node, const bc_tvar *vars, size_t nvars)
{
    const char *name = t->text + node->off;

    for (size_t i = 0; i < nvars; i++) {
        const char *v = vars[i].name;
        if (v != NULL && strncmp(v, name, node->len) == 0 && v[node->len] == '\0')
            return vars[i].value ? vars[i].value : "";
    }
    return "";
}

static void
put_escaped(bc_sbuf *b, const char *s)
{
    const char *run = s;

    for (;; s++) {
        const char *rep;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\0': bc_sbuf_put(b, run, (size_t) (s - run)); return;
        default: continue;
        }
        bc_sbuf_put(b, run, (size_t) (s - run));
        bc_sbuf_puts(b, rep);
        run = s + 1;
    }
}

size_t
bc_template_render(char *out, size_t outcap, const bc_template *t,
                   const bc_tvar *vars, size_t nvars)
{
    bc_sbuf b;

    bc_sbuf_init(&b, out, outcap);
    for (size_t i = 0; t != NULL && i < t->n; i++) {
        const bc_tnode *node = &t->nodes[i];
        const char *v;
        int truthy;

        switch (node->type) {
        case N_TEXT:
            bc_sbuf_put(&b, t->text + node->off, node->len);
            break;
        case N_VAR:
            put_escaped(&b, lookup(t, node, vars, nvars));
            break;
        case N_RAW:
            bc_sbuf_puts(&b, lookup(t, node, vars, nvars));
            break;
        case N_SECTION:
        case N_INVERTED:
            v = lookup(t, node, vars, nvars);
            truthy = v[0] != '\0' && strcmp(v, "0") != 0;
            if (truthy != (node->type == N_SECTION))
                i = node->end;
            break;
        default:
            break;
        }
    }
    return bc_sbuf_end(&b);
}

int
bc_template_uses(const bc_template *t, const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; t != NULL && i < t->n; i++) {
        const bc_tnode *node = &t->nodes[i];
        if (node->type != N_TEXT && node->len == len
            && memcmp(t->text + node->off, name, len) == 0)
            return 1;
    }
    return 0;
}
