/* bitcache seal: encrypt a file into a sealed file (docs/sealed.md) whose
 * key the host keeps in Redis, wrapped under seal_key. A product keeps its
 * key when sealed again, so that copies already mirrored still open;
 * --new-key replaces it (and those copies then no longer open). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api_request.h"
#include "args.h"
#include "commands.h"
#include "hex.h"
#include "redis_conn.h"
#include "seal_io.h"
#include "sealed.h"
#include "sealkey.h"
#include "secret.h"
#include "token_record.h"

static const char usage[] =
    "usage: bitcache seal IN OUT --product P --host URL [--title T] [--chunk-size N] "
    "[--new-key] --secret FILE [--old-secret FILE] --redis ADDR";

typedef struct {
    bc_sealed_header    h;
    const char         *in, *out;
    uint64_t            chunk;
    int                 new_key;
    const char         *old_secret;     /* unwraps a key wrapped before a
                                           rotation; wrapped again */
} seal_args;

static int
set_field(unsigned char *dst, size_t *len, const char *s, int allow_empty)
{
    size_t n = strlen(s);

    if ((n == 0 && !allow_empty) || n > BC_SEALED_FIELD_MAX) {
        return 0;
    }
    memcpy(dst, s, n);
    *len = n;
    return 1;
}

/* Whether <api>/keys<product> is a key route the host answers
 * (bc_api_keys_path), so that the sealed copy can ever be opened. */
static int
keys_path_ok(const char *product)
{
    char uri[5 + BC_SEALED_FIELD_MAX + 1];
    const char *path;
    size_t n = strlen(product), path_len;

    if (n > BC_SEALED_FIELD_MAX) {
        return 0;
    }
    memcpy(uri, "/keys", 5);
    memcpy(uri + 5, product, n);
    return bc_api_keys_path(uri, 5 + n, "", 0, &path, &path_len) && path_len == n;
}

/* The product's key from Redis if it has one (and it unwraps), else a
 * fresh one; *fresh says which: 1 fresh, 0 from Redis, 2 from Redis but
 * unwrapped only under --old-secret (stored again, wrapped under the new
 * secret: copies sealed with it keep opening). */
static int
product_key(redisContext *c, const char *rkey, const bc_keys *keys, const seal_args *a,
    unsigned char key[BC_SEALED_KEY_LEN], int *fresh)
{
    const char *kv[64];
    size_t kvlen[64], i, n;
    bc_sealkey_record rec;
    redisReply *r;
    char err[100];
    int ok = 0;

    *fresh = 1;
    if (!a->new_key) {
        r = redis_run(c, "seal", 2, (const char *[]) { "HGETALL", rkey },
                      (size_t[]) { 7, strlen(rkey) });
        if (r == NULL) {
            return 0;
        }
        /* a record with more fields than a reader looks at still exists:
         * its first fields are read, it is never taken for absent */
        n = r->type == REDIS_REPLY_ARRAY ? (r->elements < 64 ? r->elements : 64) : 0;
        for (i = 0; i < n; i++) {
            kv[i] = r->element[i]->str ? r->element[i]->str : "";
            kvlen[i] = r->element[i]->str ? r->element[i]->len : 0;
        }
        if (n > 0) {
            *fresh = 0;
            if (!bc_sealkey_parse(&rec, kv, kvlen, n, err, sizeof(err))) {
                fprintf(stderr, "bitcache seal: %s: %s (--new-key replaces it; copies "
                        "sealed with it will no longer open)\n", rkey, err);
            } else if (!bc_sealkey_unwrap_keys(key, keys, a->h.product,
                                               a->h.product_len, rec.id, rec.wrapped)) {
                fprintf(stderr, "bitcache seal: %s does not unwrap under this secret "
                        "(--new-key replaces it; copies sealed with it will no longer "
                        "open)\n", rkey);
            } else {
                ok = 1;
                /* under the old secret only: wrapped again under the new
                 * (bc_sealkey_unwrap wipes key when it fails: opened again) */
                if (keys->old != NULL
                    && !bc_sealkey_unwrap(key, keys->seal_key, a->h.product,
                                          a->h.product_len, rec.id, rec.wrapped))
                {
                    ok = bc_sealkey_unwrap(key, keys->old->seal_key, a->h.product,
                                           a->h.product_len, rec.id, rec.wrapped);
                    *fresh = ok ? 2 : 0;
                }
            }
        }
        freeReplyObject(r);
        if (*fresh != 1) {
            return ok;
        }
    }
    return RAND_bytes(key, BC_SEALED_KEY_LEN) == 1;
}

static int
store_key(redisContext *c, const char *rkey, const bc_keys *keys, const bc_sealed_header *h,
    const unsigned char key[BC_SEALED_KEY_LEN])
{
    unsigned char wrapped[BC_SEALKEY_WRAPPED_LEN];
    bc_sealkey_write w;
    redisReply *r;

    if (!bc_sealkey_wrap(wrapped, keys->seal_key, h->product, h->product_len, h->key_id,
                         key, NULL))
    {
        fprintf(stderr, "bitcache seal: cannot wrap the key\n");
        return 0;
    }
    bc_sealkey_hset(&w, rkey, strlen(rkey), h->key_id, wrapped, (uint64_t) time(NULL));
    r = redis_run(c, "seal", 10, w.argv, w.argvlen);
    if (r == NULL) {
        return 0;
    }
    freeReplyObject(r);
    return 1;
}

static int
feed(void *arg, const unsigned char *p, size_t n, char *err, size_t errlen)
{
    return bc_sealer_update(arg, p, n, err, errlen);
}

/* Seals a->in into so (a temporary file). */
static int
seal_file(seal_args *a, const unsigned char key[BC_SEALED_KEY_LEN], seal_out *so,
    uint64_t *total)
{
    bc_sealer *s;
    char err[300];
    int ok;

    if (RAND_bytes(a->h.nonce, sizeof(a->h.nonce)) != 1) {
        return run_error("seal", "no randomness"), 0;
    }
    s = bc_sealer_new(key, &a->h, seal_out_write, so, err, sizeof(err));
    ok = s != NULL && seal_read_all(a->in, feed, s, total, err, sizeof(err))
         && bc_sealer_finish(s, err, sizeof(err));
    bc_sealer_free(s);
    if (!ok) {
        run_error("seal", "%s: %s", a->in, err);
    }
    return ok;
}

static int
parse_args(seal_args *a, redis_opts *ro, const char **secret, int argc, char **argv)
{
    static const struct option opts[] = {
        { "product", required_argument, NULL, 'p' },
        { "host", required_argument, NULL, 'H' },
        { "title", required_argument, NULL, 'T' },
        { "chunk-size", required_argument, NULL, 'c' },
        { "new-key", no_argument, NULL, 'n' },
        { "secret", required_argument, NULL, 's' },
        { "old-secret", required_argument, NULL, 'O' },
        REDIS_LONG_OPTIONS,
        { NULL, 0, NULL, 0 }
    };
    const char *product = NULL, *host = NULL, *title = "";
    int ch, taken;

    memset(a, 0, sizeof(*a));
    a->chunk = BC_SEALED_CHUNK_DEFAULT;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((taken = redis_opts_take(ro, "seal", ch, optarg)) != 0) {
            if (taken < 0) return EXIT_USAGE;
            continue;
        }
        switch (ch) {
        case 'p': product = optarg; break;
        case 'H': host = optarg; break;
        case 'T': title = optarg; break;
        case 'n': a->new_key = 1; break;
        case 's': *secret = optarg; break;
        case 'O': a->old_secret = optarg; break;
        case 'c':
            if (!parse_uint(&a->chunk, optarg, BC_SEALED_CHUNK_MAX)
                || a->chunk < BC_SEALED_CHUNK_MIN)
            {
                return usage_error("seal", "--chunk-size: \"%s\" is not a number of bytes "
                                   "from 1024 to 16777216", optarg);
            }
            break;
        default:
            return usage_error("seal", "unknown or incomplete option \"%s\"\n%s",
                               argv[optind - 1], usage);
        }
    }
    if (optind != argc - 2) {
        return usage_error("seal", "IN and OUT are needed\n%s", usage);
    }
    a->in = argv[optind];
    a->out = argv[optind + 1];
    if (product == NULL || !set_field(a->h.product, &a->h.product_len, product, 0)) {
        return usage_error("seal", "--product: 1 to 1024 bytes are needed\n%s", usage);
    }
    if (product[0] != '/') {
        /* the host sells it at <api>/keys<product>: a location's path */
        return usage_error("seal", "--product must be the path of the location that "
                           "sells it, starting with '/' (e.g. /films/a.mp4)");
    }
    if (!keys_path_ok(product)) {
        /* a key nobody could ever fetch: refused now, not after the sale */
        return usage_error("seal", "--product must be a path the host serves as it is: "
                           "no empty, '.' or '..' segment, no '?' (the key route "
                           "refuses it)");
    }
    if (host == NULL || !set_field(a->h.host, &a->h.host_len, host, 0)) {
        return usage_error("seal", "--host: the API's URL is needed (e.g. "
                           "https://files.example/bitcache)\n%s", usage);
    }
    if (!set_field(a->h.title, &a->h.title_len, title, 1)) {
        return usage_error("seal", "--title: at most 1024 bytes");
    }
    a->h.chunk_size = (uint32_t) a->chunk;
    {
        unsigned char probe[BC_SEALED_HEADER_MAX];
        if (bc_sealed_header_encode(probe, sizeof(probe), &a->h) == 0) {
            return usage_error("seal", "--host must be an http:// or https:// URL of "
                               "printable characters; --product and --title hold no "
                               "control characters");
        }
    }
    if (*secret == NULL) {
        return usage_error("seal", "--secret FILE is required\n%s", usage);
    }
    if (ro->addr == NULL) {
        return usage_error("seal", "--redis ADDR is required\n%s", usage);
    }
    if (strlen(ro->prefix) > 128) {
        return usage_error("seal", "--redis-prefix is longer than 128 bytes");
    }
    return 0;
}

int
cmd_seal(int argc, char **argv)
{
    static seal_args a;
    unsigned char key[BC_SEALED_KEY_LEN];
    char rkey[BC_SEALKEY_KEY_MAX], err[512], id[2 * BC_SEALED_ID_LEN + 1];
    const char *secret = NULL;
    redisContext *c;
    redis_opts ro;
    uint64_t total = 0;
    seal_out so;
    bc_keys keys, old;
    int rc, fresh = 0, ok;

    redis_opts_init(&ro);
    if ((rc = parse_args(&a, &ro, &secret, argc, argv)) != 0) {
        return rc;
    }
    if (!bc_secret_load(&keys, secret, err, sizeof(err))) {
        return usage_error("seal", "--secret: %s", err);
    }
    if (a.old_secret && !bc_secret_load(&old, a.old_secret, err, sizeof(err))) {
        bc_keys_clear(&keys);
        return usage_error("seal", "--old-secret: %s", err);
    }
    if (a.old_secret && !bc_keys_rotate(&keys, &old)) {
        bc_keys_clear(&keys);
        bc_keys_clear(&old);
        return usage_error("seal", "--secret and --old-secret hold the same secret");
    }
    bc_sealkey_key(rkey, sizeof(rkey), ro.prefix, a.h.product, a.h.product_len);
    c = redis_open(&ro, "seal");
    if (c == NULL) {
        bc_keys_clear(&keys);
        if (a.old_secret) bc_keys_clear(&old);
        return 1;
    }
    ok = product_key(c, rkey, &keys, &a, key, &fresh);
    if (ok && !seal_out_create(&so, a.out, err, sizeof(err))) {
        run_error("seal", "OUT: %s", err);
        ok = 0;
    } else if (ok) {
        /* the key is in Redis before the file has its name */
        ok = seal_file(&a, key, &so, &total) && (!fresh || store_key(c, rkey, &keys, &a.h, key));
        if (!seal_out_end(&so, ok, err, sizeof(err)) && ok) {
            run_error("seal", "OUT: %s", err);
            ok = 0;
        }
    }
    OPENSSL_cleanse(key, sizeof(key));
    bc_keys_clear(&keys);
    if (a.old_secret) bc_keys_clear(&old);
    redisFree(c);
    if (!ok) {
        return 1;
    }
    bc_hex_encode(id, a.h.key_id, BC_SEALED_ID_LEN);
    printf("%.*s\tkey %s%s\t%llu bytes\tsealed %llu bytes\n", (int) a.h.product_len,
           (const char *) a.h.product, id,
           fresh == 1 ? " (new)" : fresh == 2 ? " (wrapped again under the new secret)" : "",
           (unsigned long long) total, (unsigned long long) so.bytes);
    return 0;
}
