/* bitcache invoice list|show|gap: the invoices in Redis, one invoice with
 * the verdicts of the checks that settle it (the same code as the module's
 * status endpoint), and the gaps that unpaid invoices leave in creators'
 * wallets. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "hex.h"
#include "index_record.h"
#include "invoice.h"
#include "invoice_record.h"
#include "records.h"
#include "schnorr.h"
#include "secret.h"
#include "secrets.h"
#include "wallet.h"

#define USAGE_LIST "usage: bitcache invoice list --redis ADDR [--state S]"
#define USAGE_SHOW "usage: bitcache invoice show --redis ADDR [--secret FILE " \
                   "[--old-secret FILE]] [--watcher-key HEX] ID"
#define USAGE_GAP  "usage: bitcache invoice gap --redis ADDR [--wallet W] [--gap-limit N]"
#define MAX_KV     128


/* Field f of an HGETALL reply (names from libbitcache/invoice_record.h) */
static const char *
field(const char *const *kv, const size_t *kvlen, size_t n, bc_invoice_field f, size_t *len)
{
    return kv_get(kv, kvlen, n, bc_invoice_field_name(f), len);
}

static uint64_t
field_uint(const char *const *kv, const size_t *kvlen, size_t n, bc_invoice_field f)
{
    uint64_t v = 0;
    size_t len;
    const char *s = field(kv, kvlen, n, f, &len);

    return s != NULL && bc_parse_uint_n(&v, s, len, UINT64_MAX) ? v : 0;
}

/* The state as recorded, but "expired" for a new invoice past its expiry
 * that the watcher has not marked yet. */
static const char *
effective_state(const char *const *kv, const size_t *kvlen, size_t n, char *buf, size_t buflen)
{
    size_t len;
    const char *s = field(kv, kvlen, n, BC_INV_STATE, &len);

    if (s == NULL || (len == 3 && memcmp(s, "new", 3) == 0)) {
        return field_uint(kv, kvlen, n, BC_INV_EXPIRES) <= (uint64_t) time(NULL) ? "expired" : "new";
    }
    snprintf(buf, buflen, "%.*s", len > 20 ? 20 : (int) len, s);
    return buf;
}

/* ---- list ------------------------------------------------------------- */

typedef struct {
    char    *line;
    uint64_t created;
    const char *id;
} row;

static int
cmp_rows(const void *a, const void *b)
{
    const row *x = a, *y = b;

    if (x->created != y->created) return x->created < y->created ? -1 : 1;
    return strcmp(x->id, y->id);
}

static int
invoice_list(int argc, char **argv)
{
    static const char cmd[] = "invoice list";
    const char *kv[MAX_KV], *st, *product;
    char **keys = NULL, statebuf[24], created[32], *line;
    size_t kvlen[MAX_KV], n, skip, plen, linelen;
    long nkeys, i, nrows = 0;
    bc_invoice_state want;
    row *rows;
    record_opts o;
    redisContext *c;
    redisReply *r;
    FILE *f;
    int rc;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_LIST, "S", "", 0, NULL))) {
        return rc;
    }
    if (o.state && !bc_invoice_state_parse(&want, o.state, strlen(o.state))) {
        return usage_error(cmd, "--state: \"%s\" is not one of new, seen, paid, underpaid, "
                           "expired", o.state);
    }
    c = redis_open(&o.ro, cmd);
    if (c == NULL || (nkeys = scan_keys(c, cmd, o.ro.prefix, "inv:", &keys)) < 0) {
        if (c) redisFree(c);
        return 1;
    }
    rows = calloc((size_t) nkeys + 1, sizeof(*rows));
    if (rows == NULL) {
        free_keys(keys, nkeys);
        redisFree(c);
        return run_error(cmd, "out of memory");
    }
    skip = strlen(o.ro.prefix) + 4;
    rc = 0;
    for (i = 0; i < nkeys; i++) {
        r = hgetall(c, cmd, keys[i], kv, kvlen, MAX_KV, &n);
        if (r == NULL) {
            rc = 1;
            continue;
        }
        st = effective_state(kv, kvlen, n, statebuf, sizeof(statebuf));
        if (n == 0 || (o.state && strcmp(st, bc_invoice_state_str(want)) != 0)) {
            freeReplyObject(r);
            continue;
        }
        format_time(created, field_uint(kv, kvlen, n, BC_INV_CREATED));
        product = field(kv, kvlen, n, BC_INV_PRODUCT, &plen);
        f = open_memstream(&line, &linelen);
        if (f == NULL) {
            freeReplyObject(r);
            rc = 1;
            continue;
        }
        fprintf(f, "%s  %-9s  %llu sats  received %llu  conf %llu/%llu  %s  ", keys[i] + skip,
                st, (unsigned long long) field_uint(kv, kvlen, n, BC_INV_AMOUNT),
                (unsigned long long) field_uint(kv, kvlen, n, BC_INV_RECEIVED),
                (unsigned long long) field_uint(kv, kvlen, n, BC_INV_CONF),
                (unsigned long long) field_uint(kv, kvlen, n, BC_INV_CONFIRMATIONS), created);
        print_clean(f, product ? product : "-", product ? plen : 1);
        fclose(f);
        rows[nrows].line = line;
        rows[nrows].created = field_uint(kv, kvlen, n, BC_INV_CREATED);
        rows[nrows].id = keys[i] + skip;
        nrows++;
        freeReplyObject(r);
    }
    qsort(rows, (size_t) nrows, sizeof(*rows), cmp_rows);
    for (i = 0; i < nrows; i++) {
        printf("%s\n", rows[i].line);
        free(rows[i].line);
    }
    free(rows);
    free_keys(keys, nkeys);
    redisFree(c);
    return rc;
}

/* ---- show ------------------------------------------------------------- */

static void
show_field(const char *name, size_t name_len, const char *value, size_t len)
{
    printf("  ");
    print_clean(stdout, name, name_len);
    printf(":%*s", name_len < 14 ? (int) (14 - name_len) : 1, "");
    print_clean(stdout, value, len);
    putchar('\n');
}

static void
show_verdicts(const bc_invoice_record *rec, const bc_keys *keys, const unsigned char *xonly)
{
    char why[BC_INVOICE_WHY_MAX];
    bc_invoice_check_result att;

    if (keys) {
        printf("invoice MAC: %s\n", bc_invoice_record_mac_ok(rec, keys) ? "ok"
               : "invoice MAC does not verify");
    }
    if (xonly) {
        att = bc_invoice_record_att_check(rec, xonly);
        printf("attestation: %s\n", att == BC_INVOICE_SETTLED ? "ok"
               : att == BC_INVOICE_NO_ATT ? "no watcher attestation"
               : "attestation does not verify");
    }
    if (keys && xonly) {
        if (bc_invoice_check(rec, keys, xonly, why, sizeof(why)) == BC_INVOICE_SETTLED) {
            printf("settles: yes, a token is minted\n");
        } else {
            printf("settles: no, %s\n", why);
        }
    }
}

static int
invoice_show(int argc, char **argv)
{
    static const char cmd[] = "invoice show";
    unsigned char id[BC_INVOICE_ID_LEN], xonly[32], tid[16];
    const char *kv[MAX_KV], *idhex, *value, *err = NULL;
    char key[256], errbuf[BC_INVOICE_WHY_MAX], expires[32];
    size_t kvlen[MAX_KV], n, i, j, len;
    bc_invoice_record rec;
    record_opts o;
    cli_secrets keys;
    const bc_keys *own;
    redisContext *c;
    redisReply *r, *ttl;
    int rc, parsed;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_SHOW, "skO", "", 1, "ID"))) {
        return rc;
    }
    idhex = argv[optind];
    if (strlen(idhex) != 2 * BC_INVOICE_ID_LEN
        || !bc_hex_decode(id, BC_INVOICE_ID_LEN, idhex, strlen(idhex)))
    {
        return usage_error(cmd, "\"%.40s\" is not a 32-digit invoice id", idhex);
    }
    if (o.watcher_key && !bc_xonly_from_hex(xonly, o.watcher_key, &err)) {
        return usage_error(cmd, "--watcher-key: %s", err);
    }
    if (o.secret && (rc = secrets_load(&keys, cmd, o.secret, o.old_secret))) {
        return rc;
    }
    rc = 1;
    snprintf(key, sizeof(key), "%sinv:%s", o.ro.prefix, idhex);
    c = redis_open(&o.ro, cmd);
    if (c == NULL || (r = hgetall(c, cmd, key, kv, kvlen, MAX_KV, &n)) == NULL) {
        goto done;
    }
    if (n == 0) {
        fprintf(stderr, "bitcache %s: no invoice %s (expired or never created)\n", cmd, idhex);
        freeReplyObject(r);
        goto done;
    }
    printf("invoice %s\n", idhex);
    /* the record's fields in their order (libbitcache/invoice_record.h) */
    for (i = 0; i < BC_INV_NFIELDS; i++) {
        const char *name = bc_invoice_field_name((bc_invoice_field) i);

        if ((value = kv_get(kv, kvlen, n, name, &len)) != NULL) {
            show_field(name, strlen(name), value, len);
        }
    }
    for (i = 0; i < n; i += 2) {            /* fields of other versions */
        for (j = 0; j < BC_INV_NFIELDS; j++) {
            const char *name = bc_invoice_field_name((bc_invoice_field) j);

            if (strlen(name) == kvlen[i] && memcmp(name, kv[i], kvlen[i]) == 0) {
                break;
            }
        }
        if (j == BC_INV_NFIELDS) {
            show_field(kv[i], kvlen[i], kv[i + 1], kvlen[i + 1]);
        }
    }
    format_time(expires, field_uint(kv, kvlen, n, BC_INV_EXPIRES));
    printf("expires at %s", expires);
    ttl = redis_run(c, cmd, 2, (const char *[]) { "TTL", key }, (size_t[]) { 3, strlen(key) });
    if (ttl != NULL && ttl->type == REDIS_REPLY_INTEGER && ttl->integer >= 0) {
        printf(", record kept %lld s more", ttl->integer);
    }
    if (ttl) freeReplyObject(ttl);
    putchar('\n');

    parsed = bc_invoice_record_parse(&rec, id, kv, kvlen, n, errbuf, sizeof(errbuf));
    if (!parsed) {
        printf("record: malformed, %s\n", errbuf);
    } else {
        show_verdicts(&rec, o.secret ? &keys.cur : NULL, o.watcher_key ? xonly : NULL);
    }
    /* the token id: under the secret the invoice was made with */
    own = o.secret && parsed ? bc_invoice_record_keys(&rec, &keys.cur) : NULL;
    if (o.secret && bc_invoice_token_id(tid, id, own ? own : &keys.cur)) {
        (void) print_token_record(c, cmd, o.ro.prefix, tid);   /* its downloads */
    }
    freeReplyObject(r);
    rc = 0;
done:
    if (c) redisFree(c);
    if (o.secret) secrets_clear(&keys);
    return rc;
}

/* ---- gap ------------------------------------------------------------- */

/* A wallet app finds payments by scanning its addresses from index 0 and
 * stops after gap-limit unused ones in a row (20 for most). An address
 * that can still be paid (a live invoice or one in its grace, the next to
 * be handed out) after such a run is a payment the app would not show. */

typedef struct {
    uint32_t index;
    int      used;          /* a payment reached the address */
} slot;

typedef struct {
    uint32_t index;
    uint64_t when;          /* reusable from */
} reusable;

typedef struct {
    char      id[BC_WALLET_ID_HEX + 1];
    uint64_t  counter;      /* index: the next new index */
    int       has_counter;
    char     *wallet;       /* the wallet text, from one of its invoices */
    slot     *slots;
    size_t    nslots, cap;
    reusable *reuse;
    size_t    nreuse, rcap;
    size_t    bad_members;
} wallet_gap;

typedef struct {
    wallet_gap *v;
    size_t      n;
    const char *only;       /* --wallet: this wallet id only */
} wallets;

static wallet_gap *
find_wallet(wallets *ws, const char *id)
{
    wallet_gap *grown;
    size_t i;

    if (ws->only != NULL && strcmp(ws->only, id) != 0) return NULL;
    for (i = 0; i < ws->n; i++) {
        if (strcmp(ws->v[i].id, id) == 0) return &ws->v[i];
    }
    grown = realloc(ws->v, (ws->n + 1) * sizeof(*grown));
    if (grown == NULL) return NULL;
    ws->v = grown;
    memset(&grown[ws->n], 0, sizeof(grown[0]));
    snprintf(grown[ws->n].id, sizeof(grown[0].id), "%s", id);
    return &grown[ws->n++];
}

static int
cmp_slots(const void *a, const void *b)
{
    const slot *x = a, *y = b;

    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return y->used - x->used;       /* of two records of one index, the used one first */
}

static int
cmp_reuse(const void *a, const void *b)
{
    const reusable *x = a, *y = b;

    if (x->when != y->when) return x->when < y->when ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int
add_slot(wallet_gap *w, uint32_t index, int used, const char *wallet, size_t wlen)
{
    slot *grown;

    if (w->nslots == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 64;
        grown = realloc(w->slots, w->cap * sizeof(*grown));
        if (grown == NULL) return 0;
        w->slots = grown;
    }
    w->slots[w->nslots].index = index;
    w->slots[w->nslots++].used = used;
    if (w->wallet == NULL) {
        w->wallet = strndup(wallet, wlen);
    }
    return 1;
}

static int
add_reuse(wallet_gap *w, uint32_t index, uint64_t when)
{
    reusable *grown;

    if (w->nreuse == w->rcap) {
        w->rcap = w->rcap ? 2 * w->rcap : 64;
        grown = realloc(w->reuse, w->rcap * sizeof(*grown));
        if (grown == NULL) return 0;
        w->reuse = grown;
    }
    w->reuse[w->nreuse].index = index;
    w->reuse[w->nreuse++].when = when;
    return 1;
}

/* The gap limit to set: the longest run plus half again (at least 10
 * more), rounded up to ten. */
static uint64_t
recommended_limit(uint64_t run)
{
    uint64_t want = run + (run / 2 > 10 ? run / 2 : 10);

    return (want + 9) / 10 * 10;
}

/* Reports one wallet; returns 1 if a wallet app with the gap limit would
 * miss a payment. */
static int
report_wallet(wallet_gap *w, uint64_t limit, uint64_t now)
{
    uint64_t reach = 0, next, start, end, longest = 0, run_end = 0, used = 0;
    int miss;
    char when[32];
    size_t j, due_low = (size_t) -1;

    qsort(w->slots, w->nslots, sizeof(*w->slots), cmp_slots);
    qsort(w->reuse, w->nreuse, sizeof(*w->reuse), cmp_reuse);
    if (!w->has_counter) {
        w->counter = w->nslots ? (uint64_t) w->slots[w->nslots - 1].index + 1 : 0;
    }
    /* the next index handed out: the lowest reusable one due, else the counter */
    next = w->counter;
    for (j = 0; j < w->nreuse; j++) {
        if (w->reuse[j].when <= now && w->reuse[j].index < next) {
            next = w->reuse[j].index;
            due_low = j;
        }
    }
    /* the highest index a payment can still reach: the next one, any
     * index with a record (live or in its grace), any used one */
    reach = next;
    for (j = 0; j < w->nslots; j++) {
        if (w->slots[j].index > reach) reach = w->slots[j].index;
    }
    /* the longest run of unused indexes below it: between used ones,
     * and from the last used one up to it */
    start = 0;
    for (j = 0; j <= w->nslots; j++) {
        if (j < w->nslots && (!w->slots[j].used
                              || (j > 0 && w->slots[j - 1].index == w->slots[j].index)))
        {
            continue;
        }
        end = j < w->nslots ? w->slots[j].index : reach;
        if (end > start && end - start > longest) {
            longest = end - start;
            run_end = end - 1;
        }
        if (j < w->nslots) {
            used++;
            start = (uint64_t) w->slots[j].index + 1;
        }
    }
    miss = longest >= limit;

    printf("wallet %s: counter %llu%s, %llu used, %zu waiting for reuse, "
           "highest index a payment can reach %llu, longest unpaid run %llu",
           w->id, (unsigned long long) w->counter, w->has_counter ? "" : " (no index counter)",
           (unsigned long long) used, w->nreuse, (unsigned long long) reach,
           (unsigned long long) longest);
    if (longest > 0) {
        printf(" (indexes %llu-%llu)", (unsigned long long) (run_end + 1 - longest),
               (unsigned long long) run_end);
    }
    putchar('\n');
    if (miss) {
        printf("  PAST the gap limit of %llu: a wallet app that stops after %llu unused "
               "addresses misses payments from index %llu on; set its gap limit to %llu "
               "or more\n", (unsigned long long) limit, (unsigned long long) limit,
               (unsigned long long) (run_end + 1), (unsigned long long) recommended_limit(longest));
    } else {
        printf("  within the gap limit of %llu\n", (unsigned long long) limit);
    }
    if (w->nreuse > 0) {
        printf("  reuse:");
        for (j = 0; j < w->nreuse && j < 10; j++) {
            format_time(when, w->reuse[j].when);
            printf("%s %u from %s%s", j ? "," : "", w->reuse[j].index, when,
                   w->reuse[j].when <= now ? " (due)" : "");
        }
        if (w->nreuse > 10) printf(", and %zu more", w->nreuse - 10);
        if (due_low != (size_t) -1) printf("; next handed out: %u", w->reuse[due_low].index);
        putchar('\n');
    }
    if (w->bad_members > 0) {
        printf("  reuse: %zu members that are not indexes (Redis was written to)\n",
               w->bad_members);
    }
    printf("  wallet: ");
    if (w->wallet == NULL) {
        printf("(no invoice of it left in Redis)\n");
    } else if (strlen(w->wallet) > 30) {
        print_clean(stdout, w->wallet, 16);
        printf("...");
        print_clean(stdout, w->wallet + strlen(w->wallet) - 8, 8);
        putchar('\n');
    } else {
        print_clean(stdout, w->wallet, strlen(w->wallet));
        putchar('\n');
    }
    return miss;
}

/* The wallet id a key name ends with, or NULL. */
static const char *
key_wallet_id(const char *key, size_t skip)
{
    size_t i;

    if (strlen(key) != skip + BC_WALLET_ID_HEX) return NULL;
    for (i = skip; key[i]; i++) {
        if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f'))) return NULL;
    }
    return key + skip;
}

static int
gap_counters(redisContext *c, const char *cmd, const char *prefix, wallets *ws)
{
    char **keys = NULL;
    long nkeys, i;
    size_t skip = strlen(prefix) + strlen(BC_KEY_INDEX);
    uint64_t next;
    wallet_gap *w;
    redisReply *r;
    const char *id;
    int ok = 1;

    if ((nkeys = scan_keys(c, cmd, prefix, BC_KEY_INDEX, &keys)) < 0) {
        return 0;
    }
    for (i = 0; i < nkeys && ok; i++) {
        if ((id = key_wallet_id(keys[i], skip)) == NULL) continue;
        r = redis_run(c, cmd, 2, (const char *[]) { "GET", keys[i] },
                      (size_t[]) { 3, strlen(keys[i]) });
        if (r == NULL) {
            ok = 0;
            break;
        }
        if (r->type == REDIS_REPLY_STRING && bc_parse_uint_n(&next, r->str, r->len, UINT32_MAX)
            && (w = find_wallet(ws, id)) != NULL)
        {
            w->counter = next;
            w->has_counter = 1;
        }
        freeReplyObject(r);
    }
    free_keys(keys, nkeys);
    return ok;
}

static int
gap_reuse(redisContext *c, const char *cmd, const char *prefix, wallets *ws)
{
    char **keys = NULL;
    long nkeys, i;
    size_t skip = strlen(prefix) + strlen(BC_KEY_REUSE), j;
    uint64_t when;
    uint32_t index;
    wallet_gap *w;
    redisReply *r;
    const char *id;
    int ok = 1;

    if ((nkeys = scan_keys(c, cmd, prefix, BC_KEY_REUSE, &keys)) < 0) {
        return 0;
    }
    for (i = 0; i < nkeys && ok; i++) {
        if ((id = key_wallet_id(keys[i], skip)) == NULL || (w = find_wallet(ws, id)) == NULL) {
            continue;
        }
        r = redis_run(c, cmd, 5, (const char *[]) { "ZRANGE", keys[i], "0", "-1", "WITHSCORES" },
                      (size_t[]) { 6, strlen(keys[i]), 1, 2, 10 });
        if (r == NULL) {
            ok = 0;
            break;
        }
        for (j = 0; r->type == REDIS_REPLY_ARRAY && j + 1 < r->elements && ok; j += 2) {
            if (r->element[j]->type == REDIS_REPLY_STRING
                && r->element[j + 1]->type == REDIS_REPLY_STRING
                && bc_reuse_member_parse(&index, r->element[j]->str, r->element[j]->len)
                && bc_parse_uint_n(&when, r->element[j + 1]->str, r->element[j + 1]->len,
                                   UINT64_MAX))
            {
                ok = add_reuse(w, index, when);
            } else {
                w->bad_members++;
            }
        }
        freeReplyObject(r);
    }
    free_keys(keys, nkeys);
    return ok;
}

/* The wallet id of an invoice's wallet text; the last one is remembered,
 * since most invoices of a shop share a few wallets. */
static int
invoice_wallet_id(char *id, const char *text, size_t len, int network)
{
    static char last[1100], last_id[BC_WALLET_ID_HEX + 1];
    static int last_net = -2;
    const char *err;
    bc_wallet w;

    if (len >= sizeof(last)) return 0;
    if (last_net == network && strlen(last) == len && memcmp(last, text, len) == 0) {
        memcpy(id, last_id, sizeof(last_id));
        return 1;
    }
    memcpy(last, text, len);
    last[len] = '\0';
    last_net = -2;
    if (!bc_wallet_parse(&w, last, network, &err) || !bc_wallet_key_id(last_id, &w)) {
        return 0;
    }
    last_net = network;
    memcpy(id, last_id, sizeof(last_id));
    return 1;
}

static int
gap_invoices(redisContext *c, const char *cmd, const char *prefix, wallets *ws)
{
    const char *argv[7] = { "HMGET", NULL, "wallet", "index", "state", "received", "network" };
    size_t lens[7] = { 5, 0, 6, 5, 5, 8, 7 };
    char **keys = NULL, wid[BC_WALLET_ID_HEX + 1];
    long nkeys, i;
    uint64_t index, received, net;
    wallet_gap *w;
    redisReply *r, **e;
    int ok = 1, used;

    if ((nkeys = scan_keys(c, cmd, prefix, "inv:", &keys)) < 0) {
        return 0;
    }
    for (i = 0; i < nkeys && ok; i++) {
        argv[1] = keys[i];
        lens[1] = strlen(keys[i]);
        if ((r = redis_run(c, cmd, 7, argv, lens)) == NULL) {
            ok = 0;
            break;
        }
        e = r->element;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 5 && e[0]->type == REDIS_REPLY_STRING
            && e[1]->type == REDIS_REPLY_STRING
            && bc_parse_uint_n(&index, e[1]->str, e[1]->len, 0x7fffffff))
        {
            received = 0;
            if (e[3]->type == REDIS_REPLY_STRING) {
                bc_parse_uint_n(&received, e[3]->str, e[3]->len, UINT64_MAX);
            }
            net = (uint64_t) -1;
            if (e[4]->type != REDIS_REPLY_STRING
                || !bc_parse_uint_n(&net, e[4]->str, e[4]->len, 3))
            {
                net = (uint64_t) -1;
            }
            used = received > 0 || (e[2]->type == REDIS_REPLY_STRING
                   && (strcmp(e[2]->str, "seen") == 0 || strcmp(e[2]->str, "paid") == 0
                       || strcmp(e[2]->str, "underpaid") == 0));
            if (invoice_wallet_id(wid, e[0]->str, e[0]->len, (int) net)
                && (w = find_wallet(ws, wid)) != NULL)
            {
                ok = add_slot(w, (uint32_t) index, used, e[0]->str, e[0]->len);
            }
        }
        freeReplyObject(r);
    }
    free_keys(keys, nkeys);
    return ok;
}

static int
invoice_gap(int argc, char **argv)
{
    static const char cmd[] = "invoice gap";
    char only[BC_WALLET_ID_HEX + 1];
    const char *err;
    wallets ws = { NULL, 0, NULL };
    uint64_t limit = 20;
    size_t i;
    record_opts o;
    redisContext *c;
    bc_wallet wal;
    int rc, missing = 0;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_GAP, "wg", "", 0, NULL))) {
        return rc;
    }
    if (o.gap_limit != NULL
        && (!bc_parse_uint_n(&limit, o.gap_limit, strlen(o.gap_limit), 1000000) || limit == 0))
    {
        return usage_error(cmd, "--gap-limit: \"%s\" is not a number from 1 to 1000000",
                           o.gap_limit);
    }
    if (o.wallet != NULL) {
        if (!bc_wallet_parse(&wal, o.wallet, -1, &err) || !bc_wallet_key_id(only, &wal)) {
            return usage_error(cmd, "--wallet: %s", err);
        }
        ws.only = only;
    }
    if ((c = redis_open(&o.ro, cmd)) == NULL) {
        return 1;
    }
    rc = 0;
    if (!gap_counters(c, cmd, o.ro.prefix, &ws) || !gap_reuse(c, cmd, o.ro.prefix, &ws)
        || !gap_invoices(c, cmd, o.ro.prefix, &ws))
    {
        rc = 1;
    } else if (ws.n == 0) {
        printf(ws.only ? "this wallet has handed out no address yet\n"
                       : "no wallet has handed out an address yet\n");
    }
    for (i = 0; i < ws.n; i++) {
        if (rc == 0) missing |= report_wallet(&ws.v[i], limit, (uint64_t) time(NULL));
        free(ws.v[i].wallet);
        free(ws.v[i].slots);
        free(ws.v[i].reuse);
    }
    free(ws.v);
    redisFree(c);
    return rc ? rc : missing ? 3 : 0;
}

int
cmd_invoice(int argc, char **argv)
{
    static const subcommand subs[] = {
        { "list", invoice_list, USAGE_LIST },
        { "show", invoice_show, USAGE_SHOW },
        { "gap", invoice_gap, USAGE_GAP }
    };

    return run_subcommand("invoice", subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}
