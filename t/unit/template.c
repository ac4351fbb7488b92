/* libbitcache/template.c: the mustache subset of the payment page. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "template.h"

static char out[4096];

/* compiles and renders src with vars; returns out, or "<error: ...>" */
static const char *
render(const char *src, const bc_tvar *vars, size_t nvars)
{
    char err[200];
    bc_template *t = bc_template_compile(src, strlen(src), err, sizeof(err));
    size_t n;

    if (t == NULL) {
        snprintf(out, sizeof(out), "<error: %s>", err);
        return out;
    }
    n = bc_template_render(out, sizeof(out), t, vars, nvars);
    if (n != strlen(out))
        snprintf(out, sizeof(out), "<length %zu, wrote %zu>", n, strlen(out));
    bc_template_free(t);
    return out;
}

static const char *
compile_error(const char *src)
{
    static char err[200];
    bc_template *t = bc_template_compile(src, strlen(src), err, sizeof(err));

    if (t != NULL) {
        bc_template_free(t);
        return "(compiled)";
    }
    return err;
}

#define V(n, v) { n, v }
#define WANT_NAME " (want 1 to 64 of A-Z a-z 0-9 _ . -)"

int
main(void)
{
    const bc_tvar vars[] = {
        V("title", "Book <1> & \"2\" 'x'"),
        V("price", "0.00012345"),
        V("one", "1"),
        V("zero", "0"),
        V("empty", ""),
        V("null", NULL),
        V("svg", "<svg><path d=\"M0 0\"/></svg>"),
        V("dup", "first"),
        V("dup", "second"),
        V("a.b-c_9", "dotted"),
        V("utf8", "\xc3\xbc\xe2\x82\xbf"),
        V("zeros", "00"),
    };
    const size_t nv = sizeof(vars) / sizeof(vars[0]);

    /* variables and escaping */
    is_str(render("", vars, nv), "", "empty template");
    is_str(render("plain text, no tags", vars, nv), "plain text, no tags", "text only");
    is_str(render("<h1>{{title}}</h1>", vars, nv),
           "<h1>Book &lt;1&gt; &amp; &quot;2&quot; &#39;x&#39;</h1>", "{{name}} escapes & < > \" '");
    is_str(render("{{{title}}}", vars, nv), "Book <1> & \"2\" 'x'", "{{{name}}} is raw");
    is_str(render("{{& title}}", vars, nv), "Book <1> & \"2\" 'x'", "{{& name}} is raw");
    is_str(render("<div>{{{svg}}}</div>", vars, nv), "<div><svg><path d=\"M0 0\"/></svg></div>",
           "raw SVG kept");
    is_str(render("{{utf8}}/{{a.b-c_9}}", vars, nv), "\xc3\xbc\xe2\x82\xbf/dotted",
           "UTF-8 untouched; names with . - _ digits");
    is_str(render("[{{ price }}][{{\tprice\t}}][{{# one }}y{{/ one }}]", vars, nv),
           "[0.00012345][0.00012345][y]", "spaces inside tags");
    is_str(render("[{{unknown}}][{{{unknown}}}][{{null}}]", vars, nv), "[][][]",
           "unknown names and NULL values render empty");
    is_str(render("{{dup}}", vars, nv), "first", "the first of equal names wins");
    is_str(render("{{price}}{{price}}", vars, nv), "0.000123450.00012345", "adjacent tags");
    is_str(render("a{{! a comment with }} and\nnewlines }}b", vars, nv), "a and\nnewlines }}b",
           "comments dropped");
    is_str(render("{ {single} } }} {", vars, nv), "{ {single} } }} {", "lone braces are text");
    is_str(render("{{title}}", vars, 0), "", "no vars at all");
    is_str(render("x{{price}}y", NULL, 0), "xy", "vars may be NULL when nvars is 0");

    /* sections */
    is_str(render("{{#one}}shown{{/one}}", vars, nv), "shown", "section shown for 1");
    is_str(render("{{#zero}}shown{{/zero}}", vars, nv), "", "section hidden for \"0\"");
    is_str(render("{{#zeros}}shown{{/zeros}}", vars, nv), "shown", "\"00\" is true");
    is_str(render("{{#empty}}shown{{/empty}}", vars, nv), "", "section hidden for \"\"");
    is_str(render("{{#null}}shown{{/null}}", vars, nv), "", "section hidden for NULL");
    is_str(render("{{#nope}}shown{{/nope}}", vars, nv), "", "section hidden for unknown");
    is_str(render("{{^one}}a{{/one}}{{^zero}}b{{/zero}}{{^empty}}c{{/empty}}{{^nope}}d{{/nope}}",
                  vars, nv), "bcd", "inverted sections");
    is_str(render("{{#title}}T={{title}}{{/title}}", vars, nv),
           "T=Book &lt;1&gt; &amp; &quot;2&quot; &#39;x&#39;", "value used inside its own section");
    is_str(render("1{{#one}}2{{#zero}}3{{^one}}4{{/one}}5{{/zero}}6{{^zero}}7{{#price}}8"
                  "{{/price}}9{{/zero}}A{{/one}}B", vars, nv), "126789AB", "nested sections");
    is_str(render("{{#one}}{{#one}}x{{/one}}{{/one}}", vars, nv), "x", "same name nested");
    is_str(render("{{#zero}}{{#one}}x{{/one}}{{/zero}}y", vars, nv), "y",
           "hidden outer hides inner");
    is_str(render("{{#one}}\n  line\n{{/one}}\n", vars, nv), "\n  line\n\n",
           "whitespace around section tags is kept");

    /* errors name the line */
    is_str(compile_error("a\nb{{#x}}\nc"), "line 2: section '{{#x}}' is not closed",
           "unclosed section");
    is_str(compile_error("{{#x}}\n{{^y}}\n{{/x}}{{/y}}"),
           "line 3: '{{/x}}' does not match '{{^y}}' opened on line 2", "mismatched section");
    is_str(compile_error("\n\n{{/x}}"), "line 3: '{{/x}}' closes no open section",
           "close without open");
    is_str(compile_error("ok\n{{title"), "line 2: unterminated tag '{{' (no '}}')",
           "unterminated tag");
    is_str(compile_error("{{{svg}}"), "line 1: unterminated tag '{{{' (no '}}}')",
           "unterminated triple tag");
    is_str(compile_error("{{! comment\n\n}}\n{{bad name}}"),
           "line 4: bad name 'bad name'" WANT_NAME,
           "bad name; lines counted through comments");
    is_str(compile_error("{{}}"), "line 1: bad name ''" WANT_NAME,
           "empty name");
    is_str(compile_error("{{#}}{{/}}"), "line 1: bad name ''" WANT_NAME,
           "empty section name");
    is_str(compile_error("{{a<b}}"), "line 1: bad name 'a<b'" WANT_NAME,
           "markup in a name");
    is_str(compile_error("{{x\ny}}"), "line 1: bad name 'x'" WANT_NAME,
           "newline in a name; shown up to the newline");
    {
        char name[80], src[100];
        memset(name, 'n', 64);
        name[64] = '\0';
        snprintf(src, sizeof(src), "{{%s}}", name);
        is_str(compile_error(src), "(compiled)", "64-byte name");
        snprintf(src, sizeof(src), "{{%sn}}", name);
        ok(strncmp(compile_error(src), "line 1: bad name", 16) == 0, "65-byte name refused");
    }
    {
        char src[33 * 12 + 1] = "";
        for (int i = 0; i < 33; i++)
            strcat(src, "{{#a}}");
        ok(strstr(compile_error(src), "nested deeper than 32") != NULL, "depth limit");
    }
    {
        char err[4] = "xxx";
        ok(bc_template_compile("{{", 2, err, sizeof(err)) == NULL && strcmp(err, "lin") == 0,
           "error message truncated to errlen");
        ok(bc_template_compile("{{", 2, NULL, 0) == NULL, "err may be NULL");
    }

    /* snprintf-like rendering */
    {
        bc_template *t = bc_template_compile("<{{title}}>", 11, NULL, 0);
        const char *want = "<Book &lt;1&gt; &amp; &quot;2&quot; &#39;x&#39;>";
        size_t need = bc_template_render(NULL, 0, t, vars, nv);
        char small[10], *buf;
        int fits_all = 1;

        ok(need == strlen(want), "NULL, 0 returns the length needed (%zu)", need);
        memset(small, 'Z', sizeof(small));
        ok(bc_template_render(small, sizeof(small), t, vars, nv) == need
           && memcmp(small, want, 9) == 0 && small[9] == '\0', "cut output NUL-terminated");
        small[0] = 'Z';
        ok(bc_template_render(small, 1, t, vars, nv) == need && small[0] == '\0',
           "outcap 1 gives \"\"");
        buf = malloc(need + 1);
        ok(bc_template_render(buf, need + 1, t, vars, nv) == need && strcmp(buf, want) == 0,
           "exact buffer");
        /* every capacity: the prefix fits, the rest is cut */
        for (size_t cap = 1; cap <= need + 1; cap++) {
            memset(buf, 'Z', need + 1);
            if (bc_template_render(buf, cap, t, vars, nv) != need || strlen(buf) != cap - 1
                || memcmp(buf, want, cap - 1) != 0)
                fits_all = 0;
        }
        ok(fits_all, "every capacity from 1 to %zu", need + 1);
        free(buf);

        ok(bc_template_uses(t, "title"), "uses title");
        ok(!bc_template_uses(t, "titl") && !bc_template_uses(t, "Book"), "does not use others");
        bc_template_free(t);
        t = bc_template_compile("{{^qr}}x{{/qr}}", 15, NULL, 0);
        ok(bc_template_uses(t, "qr"), "uses a name seen only in a section");
        bc_template_free(t);
        bc_template_free(NULL);
        ok(bc_template_render(NULL, 0, NULL, vars, nv) == 0, "NULL template renders empty");
    }
    {
        /* text with NUL bytes and a template that is not NUL-terminated */
        const char src[] = "a\0b{{one}}c{{";
        bc_template *t = bc_template_compile(src, 11, NULL, 0);
        char buf[16];
        ok(t != NULL && bc_template_render(buf, sizeof(buf), t, vars, nv) == 5
           && memcmp(buf, "a\0b1c", 6) == 0, "length-delimited input, NUL bytes kept");
        bc_template_free(t);
    }

    return done_testing();
}
