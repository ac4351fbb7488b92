#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "escape.h"
#include "records.h"
#include "token_record.h"

int
record_opts_parse(record_opts *o, int argc, char **argv, const char *cmd,
    const char *usage, const char *allowed, const char *required, int npos,
    const char *pos_name)
{
    static const struct option opts[] = {
        { "secret", required_argument, NULL, 's' },
        { "old-secret", required_argument, NULL, 'O' },
        { "price", required_argument, NULL, 'p' },
        { "wallet", required_argument, NULL, 'w' },
        { "title", required_argument, NULL, 't' },
        { "state", required_argument, NULL, 'S' },
        { "watcher-key", required_argument, NULL, 'k' },
        { "gap-limit", required_argument, NULL, 'g' },
        { "suggested", required_argument, NULL, 'u' },
        { "free-first", required_argument, NULL, 'f' },
        { "free-per-address", required_argument, NULL, 'F' },
        REDIS_LONG_OPTIONS,
        { NULL, 0, NULL, 0 }
    };
    const char **slot[128] = { 0 };
    const char *r;
    int ch, taken, idx = 0;

    memset(o, 0, sizeof(*o));
    redis_opts_init(&o->ro);
    slot['s'] = &o->secret;
    slot['O'] = &o->old_secret;
    slot['p'] = &o->price;
    slot['w'] = &o->wallet;
    slot['t'] = &o->title;
    slot['S'] = &o->state;
    slot['k'] = &o->watcher_key;
    slot['g'] = &o->gap_limit;
    slot['u'] = &o->suggested;
    slot['f'] = &o->free_first;
    slot['F'] = &o->free_window;

    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, &idx)) != -1) {
        if ((taken = redis_opts_take(&o->ro, cmd, ch, optarg)) != 0) {
            if (taken < 0) return EXIT_USAGE;
            continue;
        }
        if (ch > 0 && ch < 128 && slot[ch] != NULL && strchr(allowed, ch) == NULL) {
            return usage_error(cmd, "option \"--%s\" does not apply here\n%s",
                               opts[idx].name, usage);
        }
        if (ch <= 0 || ch >= 128 || slot[ch] == NULL) {
            return usage_error(cmd, "unknown or incomplete option \"%s\"\n%s",
                               argv[optind - 1], usage);
        }
        *slot[ch] = optarg;
    }
    for (r = required; *r; r++) {
        if (*slot[(int) *r] == NULL) {
            const struct option *op;

            for (op = opts; op->val != *r; op++) {
            }
            return usage_error(cmd, "--%s is required\n%s", op->name, usage);
        }
    }
    if (o->old_secret != NULL && o->secret == NULL) {
        return usage_error(cmd, "--old-secret needs --secret\n%s", usage);
    }
    return record_args_check(&o->ro, argc, argv, cmd, usage, npos, pos_name);
}

int
record_args_check(const redis_opts *ro, int argc, char **argv, const char *cmd,
    const char *usage, int npos, const char *pos_name)
{
    if (ro->addr == NULL) {
        return usage_error(cmd, "--redis ADDR is required\n%s", usage);
    }
    if (strlen(ro->prefix) > 128) {
        return usage_error(cmd, "--redis-prefix is longer than 128 bytes");
    }
    if (argc - optind != npos) {
        if (npos == 0) {
            return usage_error(cmd, "takes no arguments, got \"%s\"\n%s", argv[optind], usage);
        }
        return usage_error(cmd, "exactly one %s is needed\n%s", pos_name, usage);
    }
    return 0;
}

int
run_subcommand(const char *cmd, const subcommand *subs, size_t nsubs, int argc, char **argv)
{
    size_t i;

    for (i = 0; argc >= 2 && i < nsubs; i++) {
        if (strcmp(argv[1], subs[i].name) == 0) {
            return subs[i].run(argc - 1, argv + 1);
        }
    }
    if (argc >= 2) {
        usage_error(cmd, "unknown subcommand \"%s\"", argv[1]);
    } else {
        usage_error(cmd, "a subcommand is needed");
    }
    for (i = 0; i < nsubs; i++) {
        fprintf(stderr, "%s\n", subs[i].usage);
    }
    return EXIT_USAGE;
}

static int
cmp_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

void
free_keys(char **keys, long n)
{
    long i;

    for (i = 0; i < n; i++) {
        free(keys[i]);
    }
    free(keys);
}

long
scan_keys(redisContext *c, const char *cmd, const char *prefix, const char *kind, char ***keys)
{
    char cursor[32] = "0", *pattern, *p;
    const char *argv[6], *s;
    size_t lens[6], i, cap = 0;
    redisReply *r, *batch;
    char **list = NULL, **grown;
    long n = 0;

    /* the prefix is literal text: escape the glob characters in it */
    pattern = malloc(2 * strlen(prefix) + strlen(kind) + 2);
    if (pattern == NULL) {
        fprintf(stderr, "bitcache %s: out of memory\n", cmd);
        return -1;
    }
    for (p = pattern, s = prefix; *s; s++) {
        if (strchr("*?[]\\", *s)) *p++ = '\\';
        *p++ = *s;
    }
    strcpy(p, kind);
    strcat(p, "*");

    do {
        argv[0] = "SCAN"; argv[1] = cursor; argv[2] = "MATCH"; argv[3] = pattern;
        argv[4] = "COUNT"; argv[5] = "1000";
        for (i = 0; i < 6; i++) lens[i] = strlen(argv[i]);
        r = redis_run(c, cmd, 6, argv, lens);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2
            || r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len >= sizeof(cursor)
            || r->element[1]->type != REDIS_REPLY_ARRAY)
        {
            if (r) {
                fprintf(stderr, "bitcache %s: unexpected SCAN reply\n", cmd);
                freeReplyObject(r);
            }
            free(pattern);
            free_keys(list, n);
            return -1;
        }
        memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
        batch = r->element[1];
        for (i = 0; i < batch->elements; i++) {
            if ((size_t) n == cap) {
                cap = cap ? 2 * cap : 64;
                grown = realloc(list, cap * sizeof(*list));
                if (grown == NULL) goto oom;
                list = grown;
            }
            list[n] = strndup(batch->element[i]->str, batch->element[i]->len);
            if (list[n] == NULL) goto oom;
            n++;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    free(pattern);

    /* SCAN may return a key twice (a rehash during the scan) */
    if (n > 1) {
        long j = 0;

        qsort(list, (size_t) n, sizeof(*list), cmp_keys);
        for (i = 1; i < (size_t) n; i++) {
            if (strcmp(list[i], list[j]) == 0) {
                free(list[i]);
            } else {
                list[++j] = list[i];
            }
        }
        n = j + 1;
    }
    *keys = list;
    return n;

oom:
    fprintf(stderr, "bitcache %s: out of memory\n", cmd);
    freeReplyObject(r);
    free(pattern);
    free_keys(list, n);
    return -1;
}

redisReply *
hgetall(redisContext *c, const char *cmd, const char *key, const char **kv, size_t *kvlen,
    size_t max, size_t *n)
{
    const char *argv[2] = { "HGETALL", key };
    size_t lens[2] = { 7, strlen(key) }, i;
    redisReply *r;

    r = redis_run(c, cmd, 2, argv, lens);
    if (r == NULL) {
        return NULL;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
        fprintf(stderr, "bitcache %s: unexpected HGETALL reply for %s\n", cmd, key);
        freeReplyObject(r);
        return NULL;
    }
    *n = 0;
    for (i = 0; i < r->elements && *n < max; i++) {
        if (r->element[i]->type != REDIS_REPLY_STRING) {
            continue;
        }
        kv[*n] = r->element[i]->str;
        kvlen[(*n)++] = r->element[i]->len;
    }
    *n -= *n % 2;
    return r;
}

const char *
kv_get(const char *const *kv, const size_t *kvlen, size_t n, const char *name, size_t *len)
{
    size_t i, nl = strlen(name);

    for (i = 0; i + 1 < n; i += 2) {
        if (kvlen[i] == nl && memcmp(kv[i], name, nl) == 0) {
            if (len) *len = kvlen[i + 1];
            return kv[i + 1];
        }
    }
    return NULL;
}

void
print_clean(FILE *out, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        fputc((unsigned char) s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i], out);
    }
}

void
print_json_str(const char *s, size_t len)
{
    char *buf = malloc(6 * len + 1);

    putchar('"');
    if (buf) fwrite(buf, 1, bc_json_escape(buf, (const unsigned char *) s, len), stdout);
    putchar('"');
    free(buf);
}

void
format_time(char out[32], unsigned long long t)
{
    time_t tt = (time_t) t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, 32, "%llu", t);
    }
}

int
print_token_record(redisContext *c, const char *cmd, const char *prefix,
    const unsigned char tid[16])
{
    char key[BC_TOKREC_KEY_MAX], err[128];
    const char *kv[2 * (BC_TOKREC_FILES_MAX + 8)];
    size_t kvlen[2 * (BC_TOKREC_FILES_MAX + 8)], n, i;
    redisReply *r;
    bc_tokrec rec;

    if (bc_tokrec_key(key, sizeof(key), prefix, tid) == 0
        || (r = hgetall(c, cmd, key, kv, kvlen, sizeof(kv) / sizeof(kv[0]), &n)) == NULL)
    {
        return 1;
    }
    printf("token record %s: ", key + strlen(prefix) + strlen(BC_TOKREC_KIND));
    if (n == 0) {
        printf("none (not minted yet, expired, or lost)\n");
    } else if (!bc_tokrec_parse(&rec, kv, kvlen, n, err, sizeof(err))) {
        printf("malformed, %s\n", err);
    } else if (!rec.present) {
        printf("no \"uses\": refused as unknown\n");
    } else {
        if (rec.uses) {
            printf("%u download%s of each file", (unsigned) rec.uses, rec.uses == 1 ? "" : "s");
        } else {
            printf("unlimited downloads");
        }
        printf("%s\n", rec.revoked ? ", revoked" : "");
        for (i = 0; i < rec.nfiles; i++) {
            printf("  ");
            print_clean(stdout, rec.files[i].name, rec.files[i].name_len);
            printf(": %lld bytes drawn\n", (long long) rec.files[i].drawn);
        }
        if (rec.more_files) {
            printf("  and %zu more files\n", rec.more_files);
        }
    }
    freeReplyObject(r);
    return 0;
}
