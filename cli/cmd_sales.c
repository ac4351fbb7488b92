/* bitcache sales: what each creator sold, per product, so that the
 * operator can pay creators their share of wallet-funded sales
 * (docs/operations.md, "Paying creators"). Two sources, both counted only
 * as far as they verify (Redis is not trusted):
 *   - on-chain sales: sold:<id>, the watcher's durable copy of a paid
 *     invoice; its module MAC and the watcher's attestation must verify
 *     (the checks that mint a token), else it is skipped and named;
 *   - wallet purchases: the debit entries of every wled:<wid> whose MAC
 *     verifies and that stand in the chain (seq and prev) that ends at
 *     the head of the wallet's state (wal:<wid>, MAC'd).
 * Top-ups (invoices of product "wallet:<wid>", and the credits of the
 * ledgers) are deposits, not sales: reported apart.
 * A sale's sats are its price (an invoice's list: the offer's price), its
 * tip what was received above that (pay what you want, a tip, an
 * over-payment: docs/creators.md, "Tips"); paid is both. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "amount.h"
#include "commands.h"
#include "date.h"
#include "hex.h"
#include "index_record.h"
#include "invoice_record.h"
#include "records.h"
#include "schnorr.h"
#include "secret.h"
#include "secrets.h"
#include "wallet.h"
#include "wallet_record.h"

#define USAGE "usage: bitcache sales --redis ADDR --secret FILE [--old-secret FILE] " \
              "--watcher-key HEX " \
              "[--product P] [--wallet KEY] [--since DATE] [--format text|csv|json]"
#define MAX_KV 128

typedef struct { uint64_t count, sats, tips; } tally;

/* One creator's sales of one product. */
typedef struct {
    char     creator_id[BC_WALLET_ID_HEX + 1];  /* of the parsed key, or "" */
    char    *creator;                           /* the wallet text */
    char    *product;
    size_t   product_len;
    tally    onchain, wallet;
} row;

typedef struct {
    row       *v;
    size_t     n, cap;
    tally      topup_paid, topup_credited;
    char     **skipped;                 /* "sold:<id>: why" */
    size_t     nskipped;
    uint64_t   bad_entries;             /* ledger entries that do not verify */
    /* filters */
    const char *product;
    char        only_id[BC_WALLET_ID_HEX + 1];
    const char *only_text;
    uint64_t    since;
} sales;

static int
oom(const char *cmd)
{
    fprintf(stderr, "bitcache %s: out of memory\n", cmd);
    return 0;
}

/* The creator's id: that of the parsed wallet (every spelling of one key
 * is one creator), or "" when it does not parse (then its text names it). */
static void
creator_id(char out[BC_WALLET_ID_HEX + 1], const char *text, size_t len)
{
    const char *err = NULL;
    bc_wallet w;
    char *s;

    out[0] = '\0';
    if ((s = strndup(text, len)) == NULL) return;
    if (!bc_wallet_parse(&w, s, -1, &err) || !bc_wallet_key_id(out, &w)) out[0] = '\0';
    free(s);
}

/* The row of (creator, product), made if new; NULL when a filter leaves
 * it out or on no memory (*nomem). */
static row *
row_of(sales *s, const char *creator, size_t clen, const char *product, size_t plen,
    int *nomem)
{
    char id[BC_WALLET_ID_HEX + 1];
    row *r, *grown;
    size_t i;

    *nomem = 0;
    if (s->product && (strlen(s->product) != plen || memcmp(s->product, product, plen) != 0)) {
        return NULL;
    }
    creator_id(id, creator, clen);
    if (s->only_id[0] && strcmp(s->only_id, id) != 0) return NULL;
    if (s->only_text && (strlen(s->only_text) != clen || memcmp(s->only_text, creator, clen) != 0)) {
        return NULL;
    }
    for (i = 0; i < s->n; i++) {
        r = &s->v[i];
        if (r->product_len == plen && memcmp(r->product, product, plen) == 0
            && (id[0] ? strcmp(r->creator_id, id) == 0
                : r->creator_id[0] == '\0' && strlen(r->creator) == clen
                  && memcmp(r->creator, creator, clen) == 0))
        {
            return r;
        }
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        if ((grown = realloc(s->v, s->cap * sizeof(*grown))) == NULL) {
            *nomem = 1;
            return NULL;
        }
        s->v = grown;
    }
    r = &s->v[s->n];
    memset(r, 0, sizeof(*r));
    memcpy(r->creator_id, id, sizeof(id));
    r->creator = strndup(creator, clen);
    r->product = malloc(plen + 1);
    if (r->creator == NULL || r->product == NULL) {
        free(r->creator);
        free(r->product);
        *nomem = 1;
        return NULL;
    }
    memcpy(r->product, product, plen);
    r->product[plen] = '\0';
    r->product_len = plen;
    s->n++;
    return r;
}

static int
skip(sales *s, const char *key, const char *why)
{
    char **grown, *line;
    size_t len = strlen(key) + strlen(why) + 3;

    if ((grown = realloc(s->skipped, (s->nskipped + 1) * sizeof(*grown))) == NULL
        || (line = malloc(len)) == NULL)
    {
        if (grown) s->skipped = grown;
        return 0;
    }
    s->skipped = grown;
    snprintf(line, len, "%s: %s", key, why);
    s->skipped[s->nskipped++] = line;
    return 1;
}

static int
is_topup(const char *product, size_t len)
{
    size_t n = strlen(BC_WALLET_TOPUP_PREFIX);

    return len >= n && memcmp(product, BC_WALLET_TOPUP_PREFIX, n) == 0;
}

/* ---- on-chain sales: sold:<id> ----------------------------------------- */

static int
count_sold(sales *s, redisContext *c, const char *cmd, const char *prefix, const bc_keys *keys,
    const unsigned char xonly[32])
{
    unsigned char id[BC_INVOICE_ID_LEN];
    char **keynames = NULL, err[BC_INVOICE_WHY_MAX];
    const char *kv[MAX_KV], *idhex;
    size_t kvlen[MAX_KV], n, skiplen = strlen(prefix) + strlen(BC_KEY_SOLD);
    bc_invoice_record rec;
    redisReply *r;
    long nkeys, i;
    row *w;
    int nomem, ok = 1;

    if ((nkeys = scan_keys(c, cmd, prefix, BC_KEY_SOLD, &keynames)) < 0) {
        return 0;
    }
    for (i = 0; ok && i < nkeys; i++) {
        idhex = keynames[i] + skiplen;
        if (strlen(idhex) != 2 * BC_INVOICE_ID_LEN
            || !bc_hex_decode(id, sizeof(id), idhex, strlen(idhex)))
        {
            ok = skip(s, keynames[i] + strlen(prefix), "not an invoice id");
            continue;
        }
        if ((r = hgetall(c, cmd, keynames[i], kv, kvlen, MAX_KV, &n)) == NULL) {
            ok = 0;
            break;
        }
        if (!bc_invoice_record_parse(&rec, id, kv, kvlen, n, err, sizeof(err))) {
            ok = skip(s, keynames[i] + strlen(prefix), err);
        } else if (bc_invoice_check(&rec, keys, xonly, err, sizeof(err)) != BC_INVOICE_SETTLED) {
            /* a forged or tampered copy, or one a reorg unpaid: never counted */
            ok = skip(s, keynames[i] + strlen(prefix), err);
        } else if (rec.received > BC_MAX_SATS) {
            /* a node that lies (the watcher attests what it is told): more
             * than there are bitcoins, which would wrap the sums */
            ok = skip(s, keynames[i] + strlen(prefix), "received above 21 million BTC");
        } else if (rec.paid_at < s->since) {
            /* before --since */
        } else if (is_topup(rec.inv.product, rec.inv.product_len)) {
            s->topup_paid.count++;
            s->topup_paid.sats += rec.received;
        } else if ((w = row_of(s, rec.inv.wallet, rec.inv.wallet_len, rec.inv.product,
                               rec.inv.product_len, &nomem)) != NULL)
        {
            w->onchain.count++;
            w->onchain.sats += rec.inv.list;        /* version 2: its amount */
            w->onchain.tips += rec.received > rec.inv.list ? rec.received - rec.inv.list : 0;
        } else if (nomem) {
            ok = oom(cmd);
        }
        freeReplyObject(r);
    }
    free_keys(keynames, nkeys);
    return ok;
}

/* ---- wallet purchases: wled:<wid> --------------------------------------- */

/* The state wal:<wid> of a ledger, if it verifies: 1, else 0. */
static int
ledger_state(bc_wallet_state *st, redisContext *c, const char *cmd, const char *prefix,
    const char *widhex, const unsigned char *wid, const bc_keys *keys)
{
    char key[512], err[128];
    const char **kv = NULL;
    size_t *kvlen = NULL, i;
    redisReply *r;
    int ok = 0;

    if ((size_t) snprintf(key, sizeof(key), "%s%s%s", prefix, BC_KEY_WALLET, widhex)
        >= sizeof(key))
    {
        return 0;
    }
    r = redis_run(c, cmd, 2, (const char *[]) { "HGETALL", key }, (size_t[]) { 7, strlen(key) });
    if (r == NULL) return 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0
        && (kv = calloc(r->elements, sizeof(*kv))) != NULL
        && (kvlen = calloc(r->elements, sizeof(*kvlen))) != NULL)
    {
        for (i = 0; i < r->elements && r->element[i]->type == REDIS_REPLY_STRING; i++) {
            kv[i] = r->element[i]->str;
            kvlen[i] = r->element[i]->len;
        }
        ok = i == r->elements
             && bc_wallet_state_parse(st, wid, kv, kvlen, r->elements, err, sizeof(err))
             && bc_wallet_state_ok(st, keys);
    }
    st->frozen = NULL;          /* pointed into r */
    free(kv);
    free(kvlen);
    freeReplyObject(r);
    return ok;
}

/* Counts the debits of wled:<wid> that stand in the chain that ends at
 * the head of the wallet's state (MAC'd): a MAC'd entry is not enough,
 * since the module MACs the entry of every purchase it tries, also of one
 * the buy script did not write; appended past the head, or in a chain
 * that does not reach it, an entry counts nothing. */
static int
count_ledger(sales *s, redisContext *c, const char *cmd, const char *prefix, const char *key,
    const bc_keys *keys, unsigned char *buf)
{
    unsigned char wid[BC_WALLET_ID_LEN], prev[32];
    const char *widhex = key + strlen(prefix) + strlen(BC_KEY_LEDGER);
    char err[128];
    bc_ledger_entry e;
    bc_wallet_state st;
    redisReply *r, *x;
    size_t i, good;
    row *w;
    int nomem, ok = 1, in_chain;

    if (strlen(widhex) != 2 * BC_WALLET_ID_LEN
        || !bc_hex_decode(wid, sizeof(wid), widhex, strlen(widhex)))
    {
        return 1;               /* not a ledger's name */
    }
    memset(&st, 0, sizeof(st));
    if (!ledger_state(&st, c, cmd, prefix, widhex, wid, keys)) {
        st.seq = 0;             /* no state that verifies: nothing anchors */
        memset(st.head, 0xff, sizeof(st.head));
    }
    r = redis_run(c, cmd, 4, (const char *[]) { "LRANGE", key, "0", "-1" },
                  (size_t[]) { 6, strlen(key), 1, 2 });
    if (r == NULL) return 0;
    if (r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        return 1;
    }
    /* the entries 1..seq of the state, each MAC'd and chained to the one
     * before, the last hashing to the state's head */
    memset(prev, 0, sizeof(prev));
    good = st.seq <= r->elements ? (size_t) st.seq : 0;
    for (i = 0; i < good; i++) {
        x = r->element[i];
        /* a valid entry copied twice (or one of another place) has the
         * wrong seq or prev */
        in_chain = x->type == REDIS_REPLY_STRING && x->len < BC_LEDGER_ENTRY_MAX
                   && bc_ledger_entry_parse(&e, buf, x->str, x->len, err, sizeof(err))
                   && bc_ledger_entry_ok(x->str, x->len, wid, keys)
                   && e.seq == i + 1 && CRYPTO_memcmp(e.prev, prev, 32) == 0
                   && bc_ledger_entry_hash(prev, x->str, x->len);
        if (!in_chain) break;
    }
    if (i < good || CRYPTO_memcmp(prev, st.head, 32) != 0) {
        good = 0;
    }
    s->bad_entries += r->elements - good;       /* bitcache wallet audit says more */
    for (i = 0; ok && i < good; i++) {
        x = r->element[i];
        if (!bc_ledger_entry_parse(&e, buf, x->str, x->len, err, sizeof(err))) {
            s->bad_entries++;
            continue;
        }
        if (e.time < s->since) continue;
        if (e.kind == BC_ENTRY_CREDIT) {
            s->topup_credited.count++;
            s->topup_credited.sats += e.amount;
        } else if ((w = row_of(s, e.seller, e.seller_len, e.product, e.product_len, &nomem))
                   != NULL)
        {
            w->wallet.count++;
            w->wallet.sats += e.amount;
        } else if (nomem) {
            ok = oom(cmd);
        }
    }
    freeReplyObject(r);
    return ok;
}

static int
count_wallets(sales *s, redisContext *c, const char *cmd, const char *prefix, const bc_keys *keys)
{
    unsigned char *buf;
    char **keynames = NULL;
    long nkeys, i;
    int ok = 1;

    if ((buf = malloc(BC_LEDGER_ENTRY_MAX)) == NULL) return oom(cmd);
    if ((nkeys = scan_keys(c, cmd, prefix, BC_KEY_LEDGER, &keynames)) < 0) {
        free(buf);
        return 0;
    }
    for (i = 0; ok && i < nkeys; i++) {
        ok = count_ledger(s, c, cmd, prefix, keynames[i], keys, buf);
    }
    free_keys(keynames, nkeys);
    free(buf);
    return ok;
}

/* ---- output ------------------------------------------------------------- */

static int
cmp_rows(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->creator_id[0] ? x->creator_id : x->creator,
                   y->creator_id[0] ? y->creator_id : y->creator);

    return c ? c : strcmp(x->product, y->product);
}

static int
same_creator(const row *x, const row *y)
{
    return strcmp(x->creator_id, y->creator_id) == 0
           && (x->creator_id[0] || strcmp(x->creator, y->creator) == 0);
}

static void
add(tally *t, const tally *a)
{
    t->count += a->count;
    t->sats += a->sats;
    t->tips += a->tips;
}

/* A CSV field: quoted, "" for a quote, control bytes as '?', and a cell
 * that a spreadsheet would take for a formula starts with a quote mark. */
static void
csv(const char *s, size_t len)
{
    size_t i;

    putchar('"');
    if (len && strchr("=+-@", s[0])) putchar('\'');
    for (i = 0; i < len; i++) {
        if (s[i] == '"') fputs("\"\"", stdout);
        else putchar((unsigned char) s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
    }
    putchar('"');
}

static void
csv_row(const char *kind, const char *id, const char *creator, const char *product,
    size_t plen, const tally *on, const tally *wal)
{
    printf("%s,%s,", kind, id);
    csv(creator, strlen(creator));
    putchar(',');
    csv(product, plen);
    printf(",%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n", (unsigned long long) on->count,
           (unsigned long long) on->sats, (unsigned long long) wal->count,
           (unsigned long long) wal->sats, (unsigned long long) (on->count + wal->count),
           (unsigned long long) (on->sats + wal->sats),
           (unsigned long long) (on->sats + wal->sats + on->tips + wal->tips),
           (unsigned long long) (on->tips + wal->tips));
}

static void
json_tallies(const tally *on, const tally *wal)
{
    printf("\"onchain\":{\"count\":%llu,\"sats\":%llu,\"tips_sats\":%llu},"
           "\"wallet\":{\"count\":%llu,\"sats\":%llu,\"tips_sats\":%llu},"
           "\"count\":%llu,\"sats\":%llu,\"paid_sats\":%llu,\"tips_sats\":%llu",
           (unsigned long long) on->count, (unsigned long long) on->sats,
           (unsigned long long) on->tips, (unsigned long long) wal->count,
           (unsigned long long) wal->sats, (unsigned long long) wal->tips,
           (unsigned long long) (on->count + wal->count),
           (unsigned long long) (on->sats + wal->sats),
           (unsigned long long) (on->sats + wal->sats + on->tips + wal->tips),
           (unsigned long long) (on->tips + wal->tips));
}

static void
text_tallies(const tally *on, const tally *wal)
{
    printf("on-chain %llu (%llu sats), wallet %llu (%llu sats), total %llu (%llu sats); "
           "tips %llu sats, paid %llu sats",
           (unsigned long long) on->count, (unsigned long long) on->sats,
           (unsigned long long) wal->count, (unsigned long long) wal->sats,
           (unsigned long long) (on->count + wal->count),
           (unsigned long long) (on->sats + wal->sats),
           (unsigned long long) (on->tips + wal->tips),
           (unsigned long long) (on->sats + wal->sats + on->tips + wal->tips));
}

static void
print_sales(const sales *s, const char *format)
{
    tally ton = { 0, 0, 0 }, twal = { 0, 0, 0 }, con, cwal;
    size_t i, j, k;

    for (i = 0; i < s->n; i++) {
        add(&ton, &s->v[i].onchain);
        add(&twal, &s->v[i].wallet);
    }
    if (strcmp(format, "csv") == 0) {
        printf("kind,creator_id,creator,product,onchain_sales,onchain_sats,wallet_sales,"
               "wallet_sats,sales,sats,paid_sats,tips_sats\n");
    } else if (strcmp(format, "json") == 0) {
        printf("{\"since\":%llu,\"creators\":[", (unsigned long long) s->since);
    }
    for (i = 0; i < s->n; i = j) {
        const row *r = &s->v[i];

        memset(&con, 0, sizeof(con));
        memset(&cwal, 0, sizeof(cwal));
        for (j = i; j < s->n && same_creator(&s->v[j], r); j++) {
            add(&con, &s->v[j].onchain);
            add(&cwal, &s->v[j].wallet);
        }
        if (strcmp(format, "csv") == 0) {
            for (k = i; k < j; k++) {
                csv_row("product", r->creator_id, r->creator, s->v[k].product,
                        s->v[k].product_len, &s->v[k].onchain, &s->v[k].wallet);
            }
            csv_row("creator", r->creator_id, r->creator, "", 0, &con, &cwal);
        } else if (strcmp(format, "json") == 0) {
            printf("%s{\"id\":", i ? "," : "");
            if (r->creator_id[0]) printf("\"%s\"", r->creator_id);
            else printf("null");
            printf(",\"creator\":");
            print_json_str(r->creator, strlen(r->creator));
            printf(",\"products\":[");
            for (k = i; k < j; k++) {
                printf("%s{\"product\":", k > i ? "," : "");
                print_json_str(s->v[k].product, s->v[k].product_len);
                putchar(',');
                json_tallies(&s->v[k].onchain, &s->v[k].wallet);
                putchar('}');
            }
            printf("],");
            json_tallies(&con, &cwal);
            putchar('}');
        } else {
            printf("creator %s ", r->creator_id[0] ? r->creator_id : "(unparsed)");
            print_clean(stdout, r->creator, strlen(r->creator));
            putchar('\n');
            for (k = i; k < j; k++) {
                printf("  ");
                print_clean(stdout, s->v[k].product, s->v[k].product_len);
                printf(": ");
                text_tallies(&s->v[k].onchain, &s->v[k].wallet);
                putchar('\n');
            }
            printf("  all products: ");
            text_tallies(&con, &cwal);
            putchar('\n');
        }
    }
    if (strcmp(format, "csv") == 0) {
        csv_row("total", "", "", "", 0, &ton, &twal);
        csv_row("topups", "", "", "", 0, &s->topup_paid, &s->topup_credited);
    } else if (strcmp(format, "json") == 0) {
        printf("],\"total\":{");
        json_tallies(&ton, &twal);
        printf("},\"topups\":{\"paid\":%llu,\"paid_sats\":%llu,\"credited\":%llu,"
               "\"credited_sats\":%llu},\"unverified_ledger_entries\":%llu,\"skipped\":[",
               (unsigned long long) s->topup_paid.count, (unsigned long long) s->topup_paid.sats,
               (unsigned long long) s->topup_credited.count,
               (unsigned long long) s->topup_credited.sats, (unsigned long long) s->bad_entries);
        for (i = 0; i < s->nskipped; i++) {
            printf("%s", i ? "," : "");
            print_json_str(s->skipped[i], strlen(s->skipped[i]));
        }
        printf("]}\n");
    } else {
        printf("total: ");
        text_tallies(&ton, &twal);
        printf("\ntop-ups (deposits held for buyers, not sales): %llu paid on-chain (%llu sats "
               "received), %llu credited to wallets (%llu sats)\n",
               (unsigned long long) s->topup_paid.count, (unsigned long long) s->topup_paid.sats,
               (unsigned long long) s->topup_credited.count,
               (unsigned long long) s->topup_credited.sats);
        if (s->bad_entries) {
            printf("%llu ledger entries do not verify and are not counted (bitcache wallet "
                   "audit)\n", (unsigned long long) s->bad_entries);
        }
    }
    /* what was not counted is said on stderr too, for csv and json readers */
    for (i = 0; i < s->nskipped; i++) {
        fprintf(stderr, "bitcache sales: not counted: ");
        print_clean(stderr, s->skipped[i], strlen(s->skipped[i]));
        fputc('\n', stderr);
    }
}

static void
sales_free(sales *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        free(s->v[i].creator);
        free(s->v[i].product);
    }
    for (i = 0; i < s->nskipped; i++) free(s->skipped[i]);
    free(s->skipped);
    free(s->v);
}

int
cmd_sales(int argc, char **argv)
{
    static const char cmd[] = "sales";
    static const struct option opts[] = {
        { "secret", required_argument, NULL, 's' },
        { "old-secret", required_argument, NULL, 'O' },
        { "watcher-key", required_argument, NULL, 'k' },
        { "product", required_argument, NULL, 'p' },
        { "wallet", required_argument, NULL, 'w' },
        { "since", required_argument, NULL, 'S' },
        { "format", required_argument, NULL, 'f' },
        REDIS_LONG_OPTIONS,
        { NULL, 0, NULL, 0 }
    };
    const char *secret = NULL, *watcher = NULL, *wallet = NULL, *since = NULL,
               *format = "text", *err = NULL;
    unsigned char xonly[32];
    redis_opts ro;
    redisContext *c;
    cli_secrets keys;
    const char *old_secret = NULL;
    bc_wallet w;
    sales s;
    int ch, taken, idx = 0, rc;

    memset(&s, 0, sizeof(s));
    redis_opts_init(&ro);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, &idx)) != -1) {
        if ((taken = redis_opts_take(&ro, cmd, ch, optarg)) != 0) {
            if (taken < 0) return EXIT_USAGE;
            continue;
        }
        switch (ch) {
        case 's': secret = optarg; break;
        case 'O': old_secret = optarg; break;
        case 'k': watcher = optarg; break;
        case 'p': s.product = optarg; break;
        case 'w': wallet = optarg; break;
        case 'S': since = optarg; break;
        case 'f': format = optarg; break;
        default:
            return usage_error(cmd, "unknown or incomplete option \"%s\"\n%s",
                               argv[optind - 1], USAGE);
        }
    }
    if (optind != argc) {
        return usage_error(cmd, "takes no arguments, got \"%.40s\"\n%s", argv[optind], USAGE);
    }
    if (ro.addr == NULL) return usage_error(cmd, "--redis ADDR is required\n%s", USAGE);
    if (strlen(ro.prefix) > 128) return usage_error(cmd, "--redis-prefix is longer than 128 bytes");
    if (secret == NULL) return usage_error(cmd, "--secret is required (module MACs)\n%s", USAGE);
    if (watcher == NULL) {
        return usage_error(cmd, "--watcher-key is required (attestations)\n%s", USAGE);
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
        return usage_error(cmd, "--format: \"%.40s\" is not text, csv or json", format);
    }
    if (since && !bc_date_parse(&s.since, since, strlen(since))) {
        return usage_error(cmd, "--since: \"%.40s\" is not a date (YYYY-MM-DD, UTC) nor unix "
                           "seconds", since);
    }
    if (wallet) {
        /* a key or descriptor (any spelling of it), its 16-digit id, or
         * else the text exactly as the offers carry it */
        if (bc_wallet_parse(&w, wallet, -1, &err) && bc_wallet_key_id(s.only_id, &w)) {
            /* by key */
        } else if (strlen(wallet) == BC_WALLET_ID_HEX
                   && strspn(wallet, "0123456789abcdef") == BC_WALLET_ID_HEX)
        {
            memcpy(s.only_id, wallet, BC_WALLET_ID_HEX + 1);
        } else if (*wallet == '\0') {
            return usage_error(cmd, "--wallet: empty");
        } else {
            s.only_text = wallet;
        }
    }
    if (!bc_xonly_from_hex(xonly, watcher, &err)) {
        return usage_error(cmd, "--watcher-key: %s", err);
    }
    if ((rc = secrets_load(&keys, cmd, secret, old_secret))) {
        return rc;
    }
    rc = 1;
    if ((c = redis_open(&ro, cmd)) == NULL) goto done;
    if (count_sold(&s, c, cmd, ro.prefix, &keys.cur, xonly)
        && count_wallets(&s, c, cmd, ro.prefix, &keys.cur))
    {
        if (s.n) qsort(s.v, s.n, sizeof(*s.v), cmp_rows);
        print_sales(&s, format);
        rc = 0;
    }
    redisFree(c);
done:
    sales_free(&s);
    secrets_clear(&keys);
    return rc;
}
