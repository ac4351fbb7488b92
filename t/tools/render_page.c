/* Test tool: renders a page template with bc_template, as the module does.
 *
 *   render_page TEMPLATE|--default [NAME=VALUE | NAME=@FILE]...
 *
 * --default renders the page embedded in the module (build/page_default.h);
 * NAME=@FILE takes the value from a file (the QR SVG). A template that does
 * not compile: its error on stderr, exit 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "page_default.h"

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;

    if (f == NULL)
        return NULL;
    do {
        if (n == cap) {
            char *p = realloc(buf, cap = cap * 2 + 4096);
            if (p == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n < cap ? n : cap - 1] = '\0';
    *len = n;
    return buf;
}

int
main(int argc, char **argv)
{
    char err[256], *text, *out;
    size_t len, n;
    bc_template *t;
    bc_tvar *vars;
    int nvars = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: render_page TEMPLATE|--default [NAME=VALUE|NAME=@FILE]...\n");
        return 2;
    }
    if (strcmp(argv[1], "--default") == 0) {
        len = sizeof(ngx_http_bitcache_page_default) - 1;
        text = malloc(len + 1);
        memcpy(text, ngx_http_bitcache_page_default, len + 1);
    } else if ((text = slurp(argv[1], &len)) == NULL) {
        perror(argv[1]);
        return 1;
    }
    t = bc_template_compile(text, len, err, sizeof(err));
    free(text);
    if (t == NULL) {
        fprintf(stderr, "render_page: %s: %s\n", argv[1], err);
        return 2;
    }

    vars = calloc((size_t) argc, sizeof(*vars));
    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "render_page: want NAME=VALUE, got '%s'\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        vars[nvars].name = argv[i];
        vars[nvars].value = eq + 1;
        if (eq[1] == '@') {
            size_t vlen;
            char *v = slurp(eq + 2, &vlen);
            if (v == NULL) {
                perror(eq + 2);
                return 1;
            }
            while (vlen && v[vlen - 1] == '\n')
                v[--vlen] = '\0';
            vars[nvars].value = v;
        }
        nvars++;
    }

    n = bc_template_render(NULL, 0, t, vars, (size_t) nvars);
    out = malloc(n + 1);
    if (out == NULL || bc_template_render(out, n + 1, t, vars, (size_t) nvars) != n)
        return 1;
    fwrite(out, 1, n, stdout);
    free(out);
    bc_template_free(t);
    return 0;
}
