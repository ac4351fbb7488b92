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
#include "invoice.h"
#include "invoice_record.h"
#include "records.h"
#include "schnorr.h"
#include "secret.h"

#define USAGE_LIST "usage: bitcache invoice list --redis ADDR [--state S]"
#define USAGE_SHOW "usage: bitcache invoice show --redis ADDR [--secret FILE] " \
                   "[--watcher-key HEX] ID"
#define USAGE_GAP  "usage: bitcache invoice gap --redis ADDR"
#define MAX_KV     128

static const char *const show_order[] = {
    "v", "product", "title", "wallet", "network", "index", "address", "spk", "amount",
    "confirmations", "created", "expires", "token_ttl", "max_downloads", "mac",
    "state", "received", "conf", "paid_at", "att"
};

static uint64_t
field_uint(const char *const *kv, const size_t *kvlen, size_t n, const char *name)
{
    uint64_t v = 0;
    size_t len;
    const char *s = kv_get(kv, kvlen, n, name, &len);

    return s != NULL && bc_parse_uint_n(&v, s, len, UINT64_MAX) ? v : 0;
}

/* The state as recorded, but "expired" for a new invoice past its expiry
 * that the watcher has not marked yet. */
static const char *
effective_state(const char *const *kv, const size_t *kvlen, size_t n, char *buf, size_t buflen)
{
    size_t len;
    const char *s = kv_get(kv, kvlen, n, "state", &len);

    if (s == NULL || (len == 3 && memcmp(s, "new", 3) == 0)) {
        return field_uint(kv, kvlen, n, "expires") <= (uint64_t) time(NULL) ? "expired" : "new";
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
        format_time(created, field_uint(kv, kvlen, n, "created"));
        product = kv_get(kv, kvlen, n, "product", &plen);
        f = open_memstream(&line, &linelen);
        if (f == NULL) {
            freeReplyObject(r);
            rc = 1;
            continue;
        }
        fprintf(f, "%s  %-9s  %llu sats  received %llu  conf %llu/%llu  %s  ", keys[i] + skip,
                st, (unsigned long long) field_uint(kv, kvlen, n, "amount"),
                (unsigned long long) field_uint(kv, kvlen, n, "received"),
                (unsigned long long) field_uint(kv, kvlen, n, "conf"),
                (unsigned long long) field_uint(kv, kvlen, n, "confirmations"), created);
        print_clean(f, product ? product : "-", product ? plen : 1);
        fclose(f);
        rows[nrows].line = line;
        rows[nrows].created = field_uint(kv, kvlen, n, "created");
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
    bc_keys keys;
    redisContext *c;
    redisReply *r, *ttl;
    int rc, parsed;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_SHOW, "sk", "", 1, "ID"))) {
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
    if (o.secret && !bc_secret_load(&keys, o.secret, errbuf, sizeof(errbuf))) {
        return usage_error(cmd, "--secret: %s", errbuf);
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
    for (i = 0; i < sizeof(show_order) / sizeof(show_order[0]); i++) {
        if ((value = kv_get(kv, kvlen, n, show_order[i], &len)) != NULL) {
            show_field(show_order[i], strlen(show_order[i]), value, len);
        }
    }
    for (i = 0; i < n; i += 2) {            /* fields of other versions */
        for (j = 0; j < sizeof(show_order) / sizeof(show_order[0]); j++) {
            if (strlen(show_order[j]) == kvlen[i] && memcmp(show_order[j], kv[i], kvlen[i]) == 0) {
                break;
            }
        }
        if (j == sizeof(show_order) / sizeof(show_order[0])) {
            show_field(kv[i], kvlen[i], kv[i + 1], kvlen[i + 1]);
        }
    }
    format_time(expires, field_uint(kv, kvlen, n, "expires"));
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
        show_verdicts(&rec, o.secret ? &keys : NULL, o.watcher_key ? xonly : NULL);
    }
    if (o.secret && bc_invoice_token_id(tid, id, &keys)) {
        (void) print_token_record(c, cmd, o.ro.prefix, tid);   /* its downloads */
    }
    freeReplyObject(r);
    rc = 0;
done:
    if (c) redisFree(c);
    if (o.secret) bc_keys_clear(&keys);
    return rc;
}

/* ---- gap -------------------------------------------------------------- */

typedef struct {
    uint32_t index;
    int      used;          /* a payment reached the address */
} slot;

typedef struct {
    char      id[17];
    uint64_t  next;         /* the idx: counter: indices handed out */
    int       has_counter;
    char     *wallet;       /* the wallet text, from one of its invoices */
    slot     *slots;
    size_t    nslots, cap;
} wallet_gap;

static wallet_gap *
find_wallet(wallet_gap **ws, size_t *nw, const char *id)
{
    wallet_gap *grown;
    size_t i;

    for (i = 0; i < *nw; i++) {
        if (strcmp((*ws)[i].id, id) == 0) return &(*ws)[i];
    }
    grown = realloc(*ws, (*nw + 1) * sizeof(**ws));
    if (grown == NULL) return NULL;
    *ws = grown;
    memset(&grown[*nw], 0, sizeof(grown[0]));
    snprintf(grown[*nw].id, sizeof(grown[0].id), "%s", id);
    return &grown[(*nw)++];
}

static int
cmp_slots(const void *a, const void *b)
{
    const slot *x = a, *y = b;

    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return y->used - x->used;       /* of two records of one index, the used one first */
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

/* The gap limit to set: the largest gap plus half again (at least 10
 * more), rounded up to ten, and never below the usual default of 20. */
static uint64_t
recommended_limit(uint64_t largest)
{
    uint64_t want = largest + (largest / 2 > 10 ? largest / 2 : 10);

    want = (want + 9) / 10 * 10;
    return want < 20 ? 20 : want;
}

static void
report_wallet(wallet_gap *w)
{
    uint64_t last_used = 0, largest = 0, current, limit, recorded = 0, used = 0, run;
    int any_used = 0;
    size_t i;

    qsort(w->slots, w->nslots, sizeof(*w->slots), cmp_slots);
    if (!w->has_counter && w->nslots > 0) {
        w->next = (uint64_t) w->slots[w->nslots - 1].index + 1;
    }
    for (i = 0; i < w->nslots; i++) {
        if (i > 0 && w->slots[i].index == w->slots[i - 1].index) continue;
        if (w->slots[i].index < w->next) recorded++;
        if (!w->slots[i].used) continue;
        used++;
        run = w->slots[i].index - (any_used ? last_used + 1 : 0);
        if (run > largest) largest = run;
        last_used = w->slots[i].index;
        any_used = 1;
    }
    current = any_used ? (w->next > last_used + 1 ? w->next - last_used - 1 : 0) : w->next;
    if (current > largest) largest = current;
    limit = recommended_limit(largest);

    printf("wallet %s: next index %llu, %llu used, current gap %llu, largest gap %llu",
           w->id, (unsigned long long) w->next, (unsigned long long) used,
           (unsigned long long) current, (unsigned long long) largest);
    if (w->next > recorded) {
        printf(", %llu indices without a record (counted as unused)",
               (unsigned long long) (w->next - recorded));
    }
    if (!w->has_counter) {
        printf(", no idx counter");
    }
    printf("\n  recommendation: ");
    if (limit <= 20) {
        printf("the usual gap limit of 20 is enough for ");
    } else {
        printf("set the gap limit to %llu or more (largest gap %llu plus margin) for ",
               (unsigned long long) limit, (unsigned long long) largest);
    }
    if (w->wallet == NULL) {
        printf("this wallet (no invoice of it left in Redis)\n");
    } else if (strlen(w->wallet) > 30) {
        print_clean(stdout, w->wallet, 16);
        printf("...");
        print_clean(stdout, w->wallet + strlen(w->wallet) - 8, 8);
        putchar('\n');
    } else {
        print_clean(stdout, w->wallet, strlen(w->wallet));
        putchar('\n');
    }
}

static int
gap_counters(redisContext *c, const char *cmd, const char *prefix, wallet_gap **ws, size_t *nw)
{
    char **keys = NULL;
    long nkeys, i;
    size_t skip = strlen(prefix) + 4;
    uint64_t next;
    wallet_gap *w;
    redisReply *r;
    int rc = 0;

    if ((nkeys = scan_keys(c, cmd, prefix, "idx:", &keys)) < 0) {
        return 0;
    }
    for (i = 0; i < nkeys && rc == 0; i++) {
        r = redis_run(c, cmd, 2, (const char *[]) { "GET", keys[i] },
                      (size_t[]) { 3, strlen(keys[i]) });
        if (r == NULL) {
            rc = 1;
            break;
        }
        if (r->type == REDIS_REPLY_STRING && bc_parse_uint_n(&next, r->str, r->len, UINT32_MAX)
            && strlen(keys[i] + skip) == 16)
        {
            if ((w = find_wallet(ws, nw, keys[i] + skip)) == NULL) {
                rc = 1;
            } else {
                w->next = next;
                w->has_counter = 1;
            }
        }
        freeReplyObject(r);
    }
    free_keys(keys, nkeys);
    return rc == 0;
}

static int
gap_invoices(redisContext *c, const char *cmd, const char *prefix, wallet_gap **ws, size_t *nw)
{
    const char *argv[6] = { "HMGET", NULL, "wallet", "index", "state", "received" };
    size_t lens[6] = { 5, 0, 6, 5, 5, 8 };
    char **keys = NULL, wid[17];
    long nkeys, i;
    uint64_t index, received;
    wallet_gap *w;
    redisReply *r, **e;
    int ok = 1, used;

    if ((nkeys = scan_keys(c, cmd, prefix, "inv:", &keys)) < 0) {
        return 0;
    }
    for (i = 0; i < nkeys && ok; i++) {
        argv[1] = keys[i];
        lens[1] = strlen(keys[i]);
        if ((r = redis_run(c, cmd, 6, argv, lens)) == NULL) {
            ok = 0;
            break;
        }
        e = r->element;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 && e[0]->type == REDIS_REPLY_STRING
            && e[1]->type == REDIS_REPLY_STRING
            && bc_parse_uint_n(&index, e[1]->str, e[1]->len, UINT32_MAX))
        {
            received = 0;
            if (e[3]->type == REDIS_REPLY_STRING) {
                bc_parse_uint_n(&received, e[3]->str, e[3]->len, UINT64_MAX);
            }
            used = received > 0 || (e[2]->type == REDIS_REPLY_STRING
                   && (strcmp(e[2]->str, "seen") == 0 || strcmp(e[2]->str, "paid") == 0
                       || strcmp(e[2]->str, "underpaid") == 0));
            ok = bc_wallet_id(wid, e[0]->str, e[0]->len)
                 && (w = find_wallet(ws, nw, wid)) != NULL
                 && add_slot(w, (uint32_t) index, used, e[0]->str, e[0]->len);
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
    wallet_gap *ws = NULL;
    size_t nw = 0, i;
    record_opts o;
    redisContext *c;
    int rc;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_GAP, "", "", 0, NULL))) {
        return rc;
    }
    if ((c = redis_open(&o.ro, cmd)) == NULL) {
        return 1;
    }
    rc = 0;
    if (!gap_counters(c, cmd, o.ro.prefix, &ws, &nw)
        || !gap_invoices(c, cmd, o.ro.prefix, &ws, &nw))
    {
        rc = 1;
    } else if (nw == 0) {
        printf("no wallet has handed out an address yet\n");
    }
    for (i = 0; i < nw; i++) {
        if (rc == 0) report_wallet(&ws[i]);
        free(ws[i].wallet);
        free(ws[i].slots);
    }
    free(ws);
    redisFree(c);
    return rc;
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
