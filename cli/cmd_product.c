/* bitcache product set|list|show|rm: a creator's catalog records
 * prod:<product> (price, wallet, title, seq, from version 3 the suggested
 * price and the giveaway, and their MAC), which the module prefers over
 * the location's directives, so that prices change without a reload. Each
 * record written has a higher seq than the last (docs/protocol.md, "Catalog
 * records"), so that nginx can refuse an older one written back. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amount.h"
#include "bip21.h"
#include "args.h"
#include "commands.h"
#include "giveaway.h"
#include "hex.h"
#include "invoice.h"
#include "invoice_record.h"
#include "records.h"
#include "secret.h"
#include "secrets.h"
#include "wallet.h"

#define USAGE_SET  "usage: bitcache product set PRODUCT --price SATS|\"N BTC\" [--wallet KEY] " \
                   "[--title T] [--suggested SATS|\"N BTC\"|0] [--free-first N] " \
                   "[--free-per-address TIME|off] --secret FILE [--old-secret FILE] --redis ADDR"
#define USAGE_LIST "usage: bitcache product list --redis ADDR [--secret FILE [--old-secret FILE]]"
#define USAGE_SHOW "usage: bitcache product show --redis ADDR [--secret FILE [--old-secret FILE]] " \
                   "PRODUCT"
#define USAGE_RM   "usage: bitcache product rm --secret FILE [--old-secret FILE] --redis ADDR " \
                   "PRODUCT"


static int
check_product(const char *cmd, const char *product)
{
    if (strlen(product) == 0 || strlen(product) > BC_OFFER_FIELD_MAX) {
        return usage_error(cmd, "PRODUCT must be 1 to %d bytes", BC_OFFER_FIELD_MAX);
    }
    return 0;
}

/* What prod:<product> holds before a new record is written. */
enum { CUR_NONE = 0, CUR_FORGED, CUR_LIVE, CUR_WITHDRAWN };

/* The current record at key, read to number the next one: *seq is its seq
 * when its MAC verifies (a forged record cannot push the numbers up; a
 * version 1 record counts as 0), *state one of CUR_*. Returns 0, or 1
 * after printing why Redis did not answer. */
static int
current_record(redisContext *c, const char *cmd, const char *key, const char *product,
    const bc_keys *keys, uint64_t *seq, int *state)
{
    const char *kv[BC_PRODUCT_KV_MAX];
    size_t kvlen[BC_PRODUCT_KV_MAX], n;
    char err[128];
    bc_product_record p;
    redisReply *r;

    *seq = 0;
    *state = CUR_NONE;
    if ((r = hgetall(c, cmd, key, kv, kvlen, BC_PRODUCT_KV_MAX, &n)) == NULL) {
        return 1;
    }
    err[0] = '\0';
    if (n > 0 && bc_product_record_parse(&p, kv, kvlen, n, err, sizeof(err))
        && bc_product_record_mac_ok(&p, product, strlen(product), keys))
    {
        *seq = p.terms.seq;
        *state = p.terms.price != 0 ? CUR_LIVE : CUR_WITHDRAWN;
    } else if (n > 0) {
        *state = CUR_FORGED;
        fprintf(stderr, "bitcache %s: the current record does not verify (%s); "
                "replacing it\n", cmd, err[0] ? err : "BAD MAC");
    }
    freeReplyObject(r);
    return 0;
}

/* The next record's seq: now in milliseconds, or one past the current one
 * if the clock is behind it, so that seq only grows. 0: none left. */
static uint64_t
next_seq(uint64_t cur)
{
    struct timespec ts;
    uint64_t now;

    clock_gettime(CLOCK_REALTIME, &ts);
    now = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
    if (cur == UINT64_MAX) {
        return 0;
    }
    return now > cur ? now : cur + 1;
}

/* Numbers, signs and writes rec as the next record of product at key (one
 * HSET of every field); rm: only over a record that sells or is forged
 * (rec->terms.seq stays 0 otherwise). Returns 0, or 1 after printing why. */
static int
write_record(redisContext *c, const char *cmd, const char *key, const char *product,
    bc_product_record *rec, const bc_keys *keys, int rm, int *state)
{
    const char *argv[2 + BC_PRODUCT_ARGV_MAX];
    size_t lens[2 + BC_PRODUCT_ARGV_MAX], n;
    bc_product_argv_buf buf;
    uint64_t cur;
    redisReply *r;

    if (current_record(c, cmd, key, product, keys, &cur, state)) {
        return 1;
    }
    if (rm && (*state == CUR_NONE || *state == CUR_WITHDRAWN)) {
        return 0;
    }
    rec->terms.version = BC_PRODUCT_VERSION;
    if ((rec->terms.seq = next_seq(cur)) == 0) {
        return run_error(cmd, "the current record's seq is the highest there is");
    }
    if (!bc_product_record_sign(rec, product, strlen(product), keys)) {
        return run_error(cmd, "cannot compute the record's MAC");
    }
    argv[0] = "HSET";
    argv[1] = key;
    lens[0] = 4;
    lens[1] = strlen(key);
    n = bc_product_record_argv(argv + 2, lens + 2, &buf, rec);
    r = redis_run(c, cmd, (int) (2 + n), argv, lens);
    if (r == NULL) {
        return run_error(cmd, "the record was not written");
    }
    freeReplyObject(r);
    return 0;
}

/* --suggested, --free-first, --free-per-address into t (price set):
 * docs/creators.md. Returns 0, or EXIT_USAGE after printing why. */
static int
parse_terms(bc_product_terms *t, const record_opts *o, const char *cmd)
{
    const char *err = NULL;
    uint64_t v;

    if (o->suggested && strcmp(o->suggested, "0") != 0) {
        if (!bc_parse_amount(&t->suggested, o->suggested, strlen(o->suggested), &err)) {
            return usage_error(cmd, "--suggested: \"%s\" %s", o->suggested, err);
        }
        if (t->suggested <= t->price) {
            return usage_error(cmd, "--suggested (%llu sats) must be above the price "
                               "(%llu sats), or 0 for none",
                               (unsigned long long) t->suggested,
                               (unsigned long long) t->price);
        }
    }
    if (o->free_first) {
        if (!bc_parse_uint_n(&v, o->free_first, strlen(o->free_first), BC_FREE_MAX)) {
            return usage_error(cmd, "--free-first: \"%s\" is not a number of copies "
                               "from 0 to %u", o->free_first, BC_FREE_MAX);
        }
        t->free = (uint32_t) v;
    }
    if (o->free_window && strcmp(o->free_window, "off") != 0
        && strcmp(o->free_window, "0") != 0)
    {
        if (!parse_duration(&v, o->free_window) || v > BC_FREE_WINDOW_MAX) {
            return usage_error(cmd, "--free-per-address: \"%s\" is not a time of at most "
                               "366d (30s, 12h, 1d, 1w, ...) or off", o->free_window);
        }
        if (t->free == 0) {
            return usage_error(cmd, "--free-per-address needs --free-first N (above 0)");
        }
        t->free_window = (uint32_t) v;
    }
    return 0;
}

/* " suggested 12000 sats, 100 free copies (one per address per 86400 s)":
 * the terms of version 3 that are set. */
static void
print_terms(FILE *out, const bc_product_terms *t, const char *sep)
{
    if (t->suggested) {
        fprintf(out, "%ssuggested %llu sats", sep, (unsigned long long) t->suggested);
    }
    if (t->free) {
        fprintf(out, "%sfree first %u", sep, (unsigned) t->free);
        if (t->free_window) {
            fprintf(out, " (one per address per %u s)", (unsigned) t->free_window);
        }
    }
}

static int
product_set(int argc, char **argv)
{
    static const char cmd[] = "product set";
    char key[256 + BC_OFFER_FIELD_MAX], btc[BC_BTC_AMOUNT_MAX];
    const char *product, *wallet, *title, *err = NULL;
    uint64_t price;
    bc_product_record rec;
    record_opts o;
    bc_wallet w;
    cli_secrets keys;
    redisContext *c;
    int rc, state;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_SET, "spwtufFO", "ps", 1, "PRODUCT"))) {
        return rc;
    }
    product = argv[optind];
    wallet = o.wallet ? o.wallet : "";
    title = o.title ? o.title : "";
    if ((rc = check_product(cmd, product))) {
        return rc;
    }
    if (!bc_parse_amount(&price, o.price, strlen(o.price), &err)) {
        return usage_error(cmd, "--price: \"%s\" %s", o.price, err);
    }
    if (strlen(wallet) > BC_OFFER_FIELD_MAX) {
        return usage_error(cmd, "--wallet is longer than %d bytes", BC_OFFER_FIELD_MAX);
    }
    if (wallet[0] != '\0' && !bc_wallet_parse(&w, wallet, -1, &err)) {
        return usage_error(cmd, "--wallet: %s", err);
    }
    if (strlen(title) > BC_OFFER_FIELD_MAX) {
        return usage_error(cmd, "--title is longer than %d bytes", BC_OFFER_FIELD_MAX);
    }
    memset(&rec, 0, sizeof(rec));
    rec.terms.price = price;
    if ((rc = parse_terms(&rec.terms, &o, cmd))) {
        return rc;
    }
    if ((rc = secrets_load(&keys, cmd, o.secret, o.old_secret))) {
        return rc;
    }
    snprintf(key, sizeof(key), "%sprod:%s", o.ro.prefix, product);
    if ((c = redis_open(&o.ro, cmd)) == NULL) {
        secrets_clear(&keys);
        return 1;
    }
    rec.terms.wallet = wallet;
    rec.terms.wallet_len = strlen(wallet);
    rec.terms.title = title;
    rec.terms.title_len = strlen(title);
    rc = write_record(c, cmd, key, product, &rec, &keys.cur, 0, &state);
    secrets_clear(&keys);
    redisFree(c);
    if (rc) {
        return rc;
    }
    bc_format_btc(btc, price);
    printf("prod:");
    print_clean(stdout, product, strlen(product));
    printf(" price %llu sats (%s BTC), wallet %s", (unsigned long long) price, btc,
           wallet[0] ? "set" : "- (the location's)");
    print_terms(stdout, &rec.terms, ", ");
    printf(", seq %llu\n", (unsigned long long) rec.terms.seq);
    return 0;
}

static void
print_product(const char *product, const char *const *kv, const size_t *kvlen, size_t n,
    const bc_keys *keys)
{
    char err[128], btc[BC_BTC_AMOUNT_MAX];
    bc_product_record p;

    print_clean(stdout, product, strlen(product));
    if (!bc_product_record_parse(&p, kv, kvlen, n, err, sizeof(err))) {
        printf("\tmalformed: %s\n", err);
        return;
    }
    if (p.terms.version >= 2 && p.terms.price == 0) {
        printf("\twithdrawn");
    } else {
        bc_format_btc(btc, p.terms.price);
        printf("\t%llu sats\t%s BTC\t", (unsigned long long) p.terms.price, btc);
        print_clean(stdout, p.terms.title, p.terms.title_len);
        putchar('\t');
        if (p.terms.wallet_len) {
            print_clean(stdout, p.terms.wallet, p.terms.wallet_len);
        } else {
            putchar('-');
        }
        print_terms(stdout, &p.terms, "\t");
    }
    if (p.terms.version >= 2) {
        printf("\tseq %llu", (unsigned long long) p.terms.seq);
    } else {
        printf("\tv1 (no seq: `product set` again)");
    }
    if (keys) {
        printf("\t%s", bc_product_record_mac_ok(&p, product, strlen(product), keys)
               ? "ok" : "BAD MAC");
    }
    putchar('\n');
}

static int
product_list(int argc, char **argv)
{
    static const char cmd[] = "product list";
    const char *kv[BC_PRODUCT_KV_MAX];
    size_t kvlen[BC_PRODUCT_KV_MAX], n, skip;
    char **keys = NULL;
    long nkeys, i;
    record_opts o;
    cli_secrets hk;
    redisContext *c;
    redisReply *r;
    int rc;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_LIST, "sO", "", 0, NULL))) {
        return rc;
    }
    if (o.secret && (rc = secrets_load(&hk, cmd, o.secret, o.old_secret))) {
        return rc;
    }
    c = redis_open(&o.ro, cmd);
    if (c == NULL || (nkeys = scan_keys(c, cmd, o.ro.prefix, "prod:", &keys)) < 0) {
        if (c) redisFree(c);
        if (o.secret) secrets_clear(&hk);
        return 1;
    }
    skip = strlen(o.ro.prefix) + 5;
    rc = 0;
    for (i = 0; i < nkeys; i++) {
        r = hgetall(c, cmd, keys[i], kv, kvlen, BC_PRODUCT_KV_MAX, &n);
        if (r == NULL) {
            rc = 1;
            continue;
        }
        if (n > 0) {            /* removed meanwhile: not listed */
            print_product(keys[i] + skip, kv, kvlen, n, o.secret ? &hk.cur : NULL);
        }
        freeReplyObject(r);
    }
    free_keys(keys, nkeys);
    redisFree(c);
    if (o.secret) secrets_clear(&hk);
    return rc;
}

/* One product's record, field by field, its MAC verdict (--secret) and
 * the giveaway's count free:<product> (one GET). */
static int
product_show(int argc, char **argv)
{
    static const char cmd[] = "product show";
    char key[256 + BC_OFFER_FIELD_MAX], err[128], btc[BC_BTC_AMOUNT_MAX];
    const char *kv[BC_PRODUCT_KV_MAX], *product;
    size_t kvlen[BC_PRODUCT_KV_MAX], n, i;
    bc_product_record p;
    uint64_t given = 0;
    record_opts o;
    cli_secrets hk;
    redisContext *c;
    redisReply *r, *g;
    int rc, parsed, counted = 0;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_SHOW, "sO", "", 1, "PRODUCT"))) {
        return rc;
    }
    product = argv[optind];
    if ((rc = check_product(cmd, product))) {
        return rc;
    }
    if (o.secret && (rc = secrets_load(&hk, cmd, o.secret, o.old_secret))) {
        return rc;
    }
    snprintf(key, sizeof(key), "%sprod:%s", o.ro.prefix, product);
    c = redis_open(&o.ro, cmd);
    if (c == NULL || (r = hgetall(c, cmd, key, kv, kvlen, BC_PRODUCT_KV_MAX, &n)) == NULL) {
        if (c) redisFree(c);
        if (o.secret) secrets_clear(&hk);
        return 1;
    }
    rc = 0;
    if (n == 0) {
        fprintf(stderr, "bitcache %s: no product \"", cmd);
        print_clean(stderr, product, strlen(product));
        fprintf(stderr, "\" in the catalog\n");
        rc = 1;
        goto done;
    }
    printf("product ");
    print_clean(stdout, product, strlen(product));
    putchar('\n');
    for (i = 0; i + 1 < n; i += 2) {
        printf("  ");
        print_clean(stdout, kv[i], kvlen[i]);
        printf(": ");
        print_clean(stdout, kv[i + 1], kvlen[i + 1]);
        putchar('\n');
    }
    parsed = bc_product_record_parse(&p, kv, kvlen, n, err, sizeof(err));
    if (!parsed) {
        printf("record: malformed, %s\n", err);
    } else {
        if (p.terms.version >= 2 && p.terms.price == 0) {
            printf("record: version %u, withdrawn (the location's directives apply)", p.terms.version);
        } else {
            bc_format_btc(btc, p.terms.price);
            printf("record: version %u, price %llu sats (%s BTC)", p.terms.version,
                   (unsigned long long) p.terms.price, btc);
            print_terms(stdout, &p.terms, ", ");
        }
        if (o.secret) {
            printf(", MAC %s", bc_product_record_mac_ok(&p, product, strlen(product), &hk.cur)
                   ? "ok" : "BAD (not written with this secret: the module ignores it)");
        }
        putchar('\n');
    }

    /* the giveaway's count, written by the module's claim script */
    snprintf(key, sizeof(key), "%s%s%s", o.ro.prefix, BC_KEY_FREE, product);
    g = redis_run(c, cmd, 2, (const char *[]) { "GET", key }, (size_t[]) { 3, strlen(key) });
    if (g == NULL) {
        rc = 1;
        goto done;
    }
    if (g->type == REDIS_REPLY_STRING) {
        counted = bc_parse_uint_n(&given, g->str, g->len, UINT64_MAX);
        if (!counted) {
            printf("free copies given: not a count (\"");
            print_clean(stdout, g->str, g->len > 40 ? 40 : g->len);
            printf("\"): the module gives none\n");
        }
    } else {
        counted = 1;        /* none given yet */
    }
    freeReplyObject(g);
    if (counted) {
        if (parsed && p.terms.free) {
            printf("free copies given: %llu of %u (%llu left)\n", (unsigned long long) given,
                   (unsigned) p.terms.free, given >= p.terms.free ? 0ULL
                   : (unsigned long long) (p.terms.free - given));
        } else if (given) {
            printf("free copies given: %llu (no giveaway in this record: the location's "
                   "bitcache_free_first may have set one)\n", (unsigned long long) given);
        }
    }
done:
    freeReplyObject(r);
    redisFree(c);
    if (o.secret) secrets_clear(&hk);
    return rc;
}

/* Withdraws a product with a signed record of price 0 and the next seq
 * rather than DEL: a module that has seen the product refuses a missing
 * record (and any older one), so the withdrawal cannot be undone by
 * writing the last record back. */
static int
product_rm(int argc, char **argv)
{
    static const char cmd[] = "product rm";
    char key[256 + BC_OFFER_FIELD_MAX];
    const char *product;
    bc_product_record rec;
    record_opts o;
    cli_secrets keys;
    redisContext *c;
    int rc, state;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_RM, "sO", "s", 1, "PRODUCT"))) {
        return rc;
    }
    product = argv[optind];
    if ((rc = check_product(cmd, product))) {
        return rc;
    }
    if ((rc = secrets_load(&keys, cmd, o.secret, o.old_secret))) {
        return rc;
    }
    snprintf(key, sizeof(key), "%sprod:%s", o.ro.prefix, product);
    if ((c = redis_open(&o.ro, cmd)) == NULL) {
        secrets_clear(&keys);
        return 1;
    }
    memset(&rec, 0, sizeof(rec));
    rec.terms.wallet = rec.terms.title = "";
    rc = write_record(c, cmd, key, product, &rec, &keys.cur, 1, &state);
    secrets_clear(&keys);
    redisFree(c);
    if (rc) {
        return rc;
    }
    if (rec.terms.seq == 0) {
        fprintf(stderr, "bitcache %s: no product \"", cmd);
        print_clean(stderr, product, strlen(product));
        fprintf(stderr, "\"%s\n", state == CUR_WITHDRAWN ? " (already withdrawn)" : "");
        return 1;
    }
    printf("removed prod:");
    print_clean(stdout, product, strlen(product));
    printf(" (withdrawn at seq %llu: the location's directives apply)\n",
           (unsigned long long) rec.terms.seq);
    return 0;
}

int
cmd_product(int argc, char **argv)
{
    static const subcommand subs[] = {
        { "set", product_set, USAGE_SET },
        { "list", product_list, USAGE_LIST },
        { "show", product_show, USAGE_SHOW },
        { "rm", product_rm, USAGE_RM }
    };

    return run_subcommand("product", subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}
