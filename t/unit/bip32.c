/* Extended public keys: BIP32 test vectors 1-5 and BIP86's extended keys.
 * Each xpub must parse and serialize back; each one reachable from an
 * earlier one by non-hardened steps must come out of CKDpub; every private
 * key and every invalid key of vector 5 must be refused. */
#include "tap.h"
#include "vectors.h"

#include "extkey.h"

#define MAX_KEYS 64

static struct {
    char set[16], path[128], xpub[BC_EXTKEY_STR_MAX];
} keys[MAX_KEYS];

/* If path extends base by non-hardened steps only, stores them. */
static int
non_hardened_suffix(const char *base, const char *path, uint32_t *steps, int *n)
{
    size_t blen = strlen(base);
    const char *p;

    if (strncmp(path, base, blen) != 0 || path[blen] != '/') {
        return 0;
    }
    *n = 0;
    for (p = path + blen; *p == '/'; ) {
        char *end;
        unsigned long v = strtoul(p + 1, &end, 10);

        if (*end == 'h' || *n == 8) {
            return 0;
        }
        steps[(*n)++] = (uint32_t) v;
        p = end;
    }
    return *p == '\0';
}

int
main(void)
{
    char *f[VEC_MAX_FIELDS];
    FILE *in = vec_open("bip32.tsv");
    int nkeys = 0, i, j;

    while (vec_next(in, f, "\t") >= 4 && nkeys < MAX_KEYS) {
        bc_extpub k;
        char again[BC_EXTKEY_STR_MAX];
        const char *err = NULL;

        snprintf(keys[nkeys].set, sizeof(keys[nkeys].set), "%s", f[0]);
        snprintf(keys[nkeys].path, sizeof(keys[nkeys].path), "%s", f[1]);
        snprintf(keys[nkeys].xpub, sizeof(keys[nkeys].xpub), "%s", f[2]);
        ok(bc_extpub_parse(&k, f[2], &err)
           && bc_extpub_serialize(again, sizeof(again), &k, NULL)
           && strcmp(again, f[2]) == 0, "%s %s: xpub parses and serializes back", f[0], f[1]);
        if (strcmp(f[3], "-") != 0) {
            ok(!bc_extpub_parse(&k, f[3], &err) && strstr(err, BC_NEVER_PRIVATE) != NULL,
               "%s %s: xprv refused: %s", f[0], f[1], err);
        }
        nkeys++;
    }

    for (i = 0; i < nkeys; i++) {
        /* the nearest earlier key of the same set that leads here */
        for (j = i - 1; j >= 0; j--) {
            uint32_t steps[8];
            int n, s, good;
            bc_extpub k;
            char got[BC_EXTKEY_STR_MAX];
            const char *err = NULL;

            if (strcmp(keys[j].set, keys[i].set) != 0
                || !non_hardened_suffix(keys[j].path, keys[i].path, steps, &n))
            {
                continue;
            }
            good = bc_extpub_parse(&k, keys[j].xpub, &err);
            for (s = 0; good && s < n; s++) {
                good = bc_extpub_derive(&k, &k, steps[s], &err);
            }
            good = good && bc_extpub_serialize(got, sizeof(got), &k, NULL);
            is_str(good ? got : err, keys[i].xpub, "%s: CKDpub %s -> %s", keys[i].set,
                   keys[j].path, keys[i].path);
            break;
        }
    }

    in = vec_open("bip32-invalid.tsv");
    while (vec_next(in, f, "\t") >= 2) {
        bc_extpub k;
        const char *err = NULL;
        int r = bc_extpub_parse(&k, f[0], &err);

        ok(!r, "vector 5 refused (%s): %s", f[1], r ? "accepted" : err);
        if (strstr(f[1], "prvkey version") || strstr(f[1], "pubkey version / prvkey")
            || strncmp(f[0], "xprv", 4) == 0)
        {
            ok(!r && strstr(err, BC_NEVER_PRIVATE) != NULL, "  ...as a private key");
        }
    }

    /* hardened steps need the private key */
    {
        bc_extpub k, c;
        const char *err = NULL;

        ok(bc_extpub_parse(&k, keys[0].xpub, &err)
           && !bc_extpub_derive(&c, &k, BC_HARDENED, &err) && strstr(err, "private key"),
           "hardened CKDpub refused: %s", err);
    }
    return done_testing();
}
