/* Page templates: no crash on any template; whatever compiles renders to the
 * length it announced at every buffer size, and an error names a line. The
 * values carry markup, so escaping runs on every variable tag. */
#include "fuzz.h"

#include "template.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bc_tvar vars[] = {
        { "title", "<b>\"T&C's\"</b>" }, { "one", "1" }, { "zero", "0" }, { "empty", "" },
        { "null", NULL }, { "svg", "<svg/>" }, { "a", "&" },
    };
    const size_t nv = sizeof(vars) / sizeof(vars[0]);
    char err[128], *full, small[16];
    bc_template *t;
    size_t n;

    if (size > FUZZ_MAX_INPUT) {
        return 0;
    }
    t = bc_template_compile((const char *) data, size, err, sizeof(err));
    if (t == NULL) {
        FUZZ_ASSERT(strncmp(err, "line ", 5) == 0 || strcmp(err, "out of memory") == 0);
        return 0;
    }
    n = bc_template_render(NULL, 0, t, vars, nv);
    FUZZ_ASSERT(n <= size * 32 + 64);
    full = malloc(n + 1);
    FUZZ_ASSERT(full != NULL);
    FUZZ_ASSERT(bc_template_render(full, n + 1, t, vars, nv) == n);
    FUZZ_ASSERT(bc_template_render(small, sizeof(small), t, vars, nv) == n);
    FUZZ_ASSERT(memcmp(small, full, n < sizeof(small) ? n : sizeof(small) - 1) == 0);
    FUZZ_ASSERT(small[n < sizeof(small) ? n : sizeof(small) - 1] == '\0');
    (void) bc_template_uses(t, "title");
    free(full);
    bc_template_free(t);
    return 0;
}
