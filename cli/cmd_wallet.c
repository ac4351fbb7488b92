/* bitcache wallet show|audit|freeze|unfreeze|repair: a buyer's Bitcache
 * wallet as the operator sees it (docs/operations.md, "Wallets"). The
 * records are read in one MULTI (a consistent snapshot) and checked by
 * libbitcache/wallet_audit.c; a wallet that does not add up is frozen
 * (the module refuses its purchases) until an operator acts. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "escape.h"
#include "hex.h"
#include "invoice_record.h"
#include "records.h"
#include "schnorr.h"
#include "secret.h"
#include "wallet_audit.h"
#include "wallet_record.h"

#define USAGE_SHOW     "usage: bitcache wallet show --redis ADDR [--secret FILE " \
                       "[--old-secret FILE]] " \
                       "[--watcher-key HEX] [--format text|json] ID"
#define USAGE_AUDIT    "usage: bitcache wallet audit --redis ADDR --secret FILE " \
                       "[--old-secret FILE] " \
                       "[--watcher-key HEX] [--no-freeze] [--format text|json] ID"
#define USAGE_FREEZE   "usage: bitcache wallet freeze --redis ADDR --reason TEXT ID"
#define USAGE_UNFREEZE "usage: bitcache wallet unfreeze --redis ADDR --secret FILE " \
                       "[--old-secret FILE] " \
                       "[--watcher-key HEX] [--force] ID"
#define USAGE_REPAIR   "usage: bitcache wallet repair --redis ADDR --secret FILE " \
                       "[--old-secret FILE] " \
                       "[--watcher-key HEX] ID"
#define REASON_MAX     200
#define KEY_MAX        (128 + 16 + 2 * BC_WALLET_ID_LEN)
#define KEY_LEDGER_BAD "wled-bad:"      /* entries repair took out */
#define KEY_OWNED_BAD  "wown-bad:"      /* ownership records repair took out */

typedef struct {
    redis_opts     ro;
    const char    *secret, *old_secret, *watcher_key, *format, *reason;
    int            no_freeze, force, json;
    unsigned char  wid[BC_WALLET_ID_LEN];
    char           widhex[2 * BC_WALLET_ID_LEN + 1];
    bc_keys        keys;            /* keys.old is &old_keys with --old-secret */
    bc_keys        old_keys;
    int            have_keys, have_old;
    unsigned char  xonly[32];
    int            have_xonly;
} wallet_opts;

/* Parses the options (letters in allowed: s secret (and --old-secret,
 * which only verifies), k watcher-key, f
 * format, n no-freeze, r reason, F force; required must be given) and the
 * wallet id; loads the secret and the watcher key. 0, or EXIT_USAGE. */
static int
wallet_opts_parse(wallet_opts *o, int argc, char **argv, const char *cmd, const char *usage,
    const char *allowed, const char *required)
{
    static const struct option opts[] = {
        { "secret", required_argument, NULL, 's' },
        { "old-secret", required_argument, NULL, 'O' },
        { "watcher-key", required_argument, NULL, 'k' },
        { "format", required_argument, NULL, 'f' },
        { "no-freeze", no_argument, NULL, 'n' },
        { "reason", required_argument, NULL, 'r' },
        { "force", no_argument, NULL, 'F' },
        REDIS_LONG_OPTIONS,
        { NULL, 0, NULL, 0 }
    };
    const struct option *op;
    char err[256];
    const char *id, *xerr = NULL, *r;
    int ch, taken, idx = 0;
    size_t i;

    memset(o, 0, sizeof(*o));
    redis_opts_init(&o->ro);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, &idx)) != -1) {
        if ((taken = redis_opts_take(&o->ro, cmd, ch, optarg)) != 0) {
            if (taken < 0) return EXIT_USAGE;
            continue;
        }
        if (ch <= 0 || strchr("sOkfnrF", ch) == NULL) {
            return usage_error(cmd, "unknown or incomplete option \"%s\"\n%s",
                               argv[optind - 1], usage);
        }
        if (strchr(allowed, ch == 'O' ? 's' : ch) == NULL) {
            return usage_error(cmd, "option \"--%s\" does not apply here\n%s",
                               opts[idx].name, usage);
        }
        switch (ch) {
        case 's': o->secret = optarg; break;
        case 'O': o->old_secret = optarg; break;
        case 'k': o->watcher_key = optarg; break;
        case 'f': o->format = optarg; break;
        case 'n': o->no_freeze = 1; break;
        case 'r': o->reason = optarg; break;
        case 'F': o->force = 1; break;
        }
    }
    for (r = required; *r; r++) {
        if ((*r == 's' && !o->secret) || (*r == 'r' && !o->reason)) {
            for (op = opts; op->val != *r; op++) {
            }
            return usage_error(cmd, "--%s is required\n%s", op->name, usage);
        }
    }
    if (record_args_check(&o->ro, argc, argv, cmd, usage, 1, "wallet ID") != 0) {
        return EXIT_USAGE;
    }
    id = argv[optind];
    if (strlen(id) != 2 * BC_WALLET_ID_LEN || !bc_hex_decode(o->wid, BC_WALLET_ID_LEN, id, strlen(id))) {
        return usage_error(cmd, "\"%.40s\" is not a wallet id (32 hex digits)", id);
    }
    bc_hex_encode(o->widhex, o->wid, BC_WALLET_ID_LEN);
    if (o->format && strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0) {
        return usage_error(cmd, "--format: \"%.40s\" is not text or json", o->format);
    }
    o->json = o->format && strcmp(o->format, "json") == 0;
    if (o->reason) {
        for (i = 0; o->reason[i]; i++) {
            if ((unsigned char) o->reason[i] < 0x20 || o->reason[i] == 0x7f) {
                return usage_error(cmd, "--reason: no control characters, please");
            }
        }
        if (i == 0 || i > REASON_MAX) {
            return usage_error(cmd, "--reason: 1 to %d bytes", REASON_MAX);
        }
    }
    if (o->watcher_key) {
        if (!bc_xonly_from_hex(o->xonly, o->watcher_key, &xerr)) {
            return usage_error(cmd, "--watcher-key: %s", xerr);
        }
        o->have_xonly = 1;
    }
    if (o->secret) {
        if (!bc_secret_load(&o->keys, o->secret, err, sizeof(err))) {
            return usage_error(cmd, "--secret: %s", err);
        }
        o->have_keys = 1;
    }
    if (o->old_secret) {
        if (!o->secret) {
            return usage_error(cmd, "--old-secret needs --secret\n%s", usage);
        }
        if (!bc_secret_load(&o->old_keys, o->old_secret, err, sizeof(err))) {
            bc_keys_clear(&o->keys);
            return usage_error(cmd, "--old-secret: %s", err);
        }
        if (!bc_keys_rotate(&o->keys, &o->old_keys)) {
            bc_keys_clear(&o->keys);
            bc_keys_clear(&o->old_keys);
            return usage_error(cmd, "--secret and --old-secret hold the same secret");
        }
        o->have_old = 1;
    }
    return 0;
}

static void
wallet_opts_clear(wallet_opts *o)
{
    if (o->have_keys) bc_keys_clear(&o->keys);
    if (o->have_old) bc_keys_clear(&o->old_keys);
}

static void
wallet_key(char *out, const wallet_opts *o, const char *kind)
{
    snprintf(out, KEY_MAX, "%s%s%s", o->ro.prefix, kind, o->widhex);
}

/* ---- reading ----------------------------------------------------------- */

/* The strings of an array reply (non-strings skipped). */
typedef struct {
    const char **v;
    size_t      *len;
    size_t       n;
} strings;

static int
strings_of(strings *s, const redisReply *r, int pairs)
{
    size_t i;

    s->n = 0;
    s->v = calloc(r->elements + 1, sizeof(*s->v));
    s->len = calloc(r->elements + 1, sizeof(*s->len));
    if (s->v == NULL || s->len == NULL) return 0;
    for (i = 0; i < r->elements; i++) {
        if (r->element[i]->type != REDIS_REPLY_STRING) continue;
        s->v[s->n] = r->element[i]->str;
        s->len[s->n++] = r->element[i]->len;
    }
    if (pairs) s->n -= s->n % 2;
    return 1;
}

static void
strings_free(strings *s)
{
    free(s->v);
    free(s->len);
}

/* A wallet's four records, read at one instant. */
typedef struct {
    redisReply *reply[4];
    strings     state, ledger, wtop, wown;
} records;

static void
records_free(records *w)
{
    int i;

    strings_free(&w->state);
    strings_free(&w->ledger);
    strings_free(&w->wtop);
    strings_free(&w->wown);
    for (i = 0; i < 4; i++) {
        if (w->reply[i]) freeReplyObject(w->reply[i]);
    }
    memset(w, 0, sizeof(*w));
}

/* Reads wal:, wled:, wtop:, wown: in one MULTI; or, with watch, WATCHes
 * them and reads them plainly (EXEC would end the WATCH): a write between
 * the reads makes repair's EXEC fail. 0 after printing why. */
static int
records_read(records *w, redisContext *c, const char *cmd, const wallet_opts *o, int watch)
{
    char kwal[KEY_MAX], kled[KEY_MAX], ktop[KEY_MAX], kown[KEY_MAX];
    char said[512];
    redisReply *r, *exec = NULL;
    int ok = 1, i, n;

    memset(w, 0, sizeof(*w));
    wallet_key(kwal, o, BC_KEY_WALLET);
    wallet_key(kled, o, BC_KEY_LEDGER);
    wallet_key(ktop, o, BC_KEY_TOPUPS);
    wallet_key(kown, o, BC_KEY_OWNED);
    redisAppendCommand(c, watch ? "WATCH %s %s %s %s" : "MULTI", kwal, kled, ktop, kown);
    redisAppendCommand(c, "HGETALL %s", kwal);
    redisAppendCommand(c, "LRANGE %s 0 -1", kled);
    redisAppendCommand(c, "HGETALL %s", ktop);
    redisAppendCommand(c, "HGETALL %s", kown);
    n = 5;
    if (!watch) {
        redisAppendCommand(c, "EXEC");
        n = 6;
    }
    for (i = 0; i < n; i++) {
        if (redisGetReply(c, (void **) &r) != REDIS_OK) {
            fprintf(stderr, "bitcache %s: redis: %s\n", cmd, c->errstr);
            records_free(w);
            if (exec) freeReplyObject(exec);
            return 0;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "bitcache %s: redis: %s\n", cmd,
                    bc_log_text(said, sizeof(said), r->str, r->len));
            ok = 0;
        }
        if (watch && i > 0) {
            w->reply[i - 1] = r;
        } else if (!watch && i == 5) {
            exec = r;
        } else {
            freeReplyObject(r);
        }
    }
    if (!watch && ok && exec->type == REDIS_REPLY_ARRAY && exec->elements == 4) {
        for (i = 0; i < 4; i++) {
            w->reply[i] = exec->element[i];
            exec->element[i] = NULL;
        }
        exec->elements = 0;     /* the replies are ours now */
    }
    if (exec) freeReplyObject(exec);
    for (i = 0; ok && i < 4; i++) {
        if (w->reply[i] == NULL || w->reply[i]->type != REDIS_REPLY_ARRAY) {
            fprintf(stderr, "bitcache %s: redis: %s\n", cmd,
                    w->reply[i] && w->reply[i]->type == REDIS_REPLY_ERROR ? w->reply[i]->str
                    : "the wallet's records could not be read (a key of another type?)");
            ok = 0;
        }
    }
    if (ok && (!strings_of(&w->state, w->reply[0], 1) || !strings_of(&w->ledger, w->reply[1], 0)
               || !strings_of(&w->wtop, w->reply[2], 1) || !strings_of(&w->wown, w->reply[3], 1)))
    {
        fprintf(stderr, "bitcache %s: out of memory\n", cmd);
        ok = 0;
    }
    if (!ok) records_free(w);
    return ok;
}

/* ---- the audit --------------------------------------------------------- */

typedef struct {
    uint64_t  seq;
    char     *what;
} finding;

typedef struct {
    finding  *v;
    size_t    n, cap;
    int       oom;
} findings;

static void
collect(void *arg, uint64_t seq, const char *what)
{
    findings *f = arg;
    finding *grown;

    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 16;
        if ((grown = realloc(f->v, f->cap * sizeof(*grown))) == NULL) {
            f->oom = 1;
            return;
        }
        f->v = grown;
    }
    if ((f->v[f->n].what = strdup(what)) == NULL) {
        f->oom = 1;
        return;
    }
    f->v[f->n++].seq = seq;
}

static void
findings_free(findings *f)
{
    size_t i;

    for (i = 0; i < f->n; i++) free(f->v[i].what);
    free(f->v);
    memset(f, 0, sizeof(*f));
}

static int
run_audit(bc_wallet_audit_out *out, findings *f, const records *w, const wallet_opts *o)
{
    bc_wallet_audit_in in;

    memset(&in, 0, sizeof(in));
    in.wid = o->wid;
    in.keys = &o->keys;
    in.watcher_key = o->have_xonly ? o->xonly : NULL;
    in.state_kv = w->state.v;
    in.state_kvlen = w->state.len;
    in.state_n = w->state.n;
    in.entries = w->ledger.v;
    in.entry_len = w->ledger.len;
    in.nentries = w->ledger.n;
    in.wtop_kv = w->wtop.v;
    in.wtop_kvlen = w->wtop.len;
    in.wtop_n = w->wtop.n;
    in.wown_kv = w->wown.v;
    in.wown_kvlen = w->wown.len;
    in.wown_n = w->wown.n;
    in.problem = collect;
    in.arg = f;
    return bc_wallet_audit(out, &in);
}

static void
print_finding(FILE *fp, const finding *x)
{
    if (x->seq) fprintf(fp, "entry %llu: ", (unsigned long long) x->seq);
    else fprintf(fp, "wallet: ");
    print_clean(fp, x->what, strlen(x->what));
}

/* Sets frozen (only on a wallet that exists): 1, 0 if there is none, -1
 * after printing a Redis error. */
static int
freeze(redisContext *c, const char *cmd, const wallet_opts *o, const char *reason)
{
    static const char script[] =
        "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
        "redis.call('HSET', KEYS[1], 'frozen', ARGV[1]) return 1";
    char key[KEY_MAX];
    redisReply *r;
    int ok;

    wallet_key(key, o, BC_KEY_WALLET);
    r = redis_run(c, cmd, 5, (const char *[]) { "EVAL", script, "1", key, reason },
                  (size_t[]) { 4, strlen(script), 1, strlen(key), strlen(reason) });
    if (r == NULL) return -1;
    ok = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return ok;
}

/* The reason an audit writes: its time, count and first problem. */
static void
audit_reason(char *out, size_t len, const findings *f)
{
    char when[32], *p;
    FILE *fp;
    size_t n;

    format_time(when, (unsigned long long) time(NULL));
    if ((fp = fmemopen(out, len, "w")) == NULL) {
        snprintf(out, len, "audit %s: the ledger does not add up", when);
        return;
    }
    fprintf(fp, "audit %s: %zu problem%s, first: ", when, f->n, f->n == 1 ? "" : "s");
    if (f->n) print_finding(fp, &f->v[0]);
    fclose(fp);
    out[len - 1] = '\0';
    n = strlen(out);
    for (p = out; p < out + n; p++) {
        if ((unsigned char) *p < 0x20) *p = '?';
    }
}

static void
print_summary_text(const records *w, const bc_wallet_audit_out *a, const wallet_opts *o)
{
    printf("wallet %s: %zu entr%s (%llu credit%s, %llu sats; %llu debit%s, %llu sats)",
           o->widhex, w->ledger.n, w->ledger.n == 1 ? "y" : "ies",
           (unsigned long long) a->credits, a->credits == 1 ? "" : "s",
           (unsigned long long) a->credited, (unsigned long long) a->debits,
           a->debits == 1 ? "" : "s", (unsigned long long) a->debited);
    if (a->state_parsed) {
        printf(", balance %llu sats", (unsigned long long) a->state.balance);
    }
    putchar('\n');
}

/* Audits; prints the result as text or JSON. Returns 0 if it adds up, 1
 * if not (frozen unless no_freeze), -1 if it could not be read. */
static int
audit_and_report(redisContext *c, const char *cmd, const wallet_opts *o, int no_freeze,
    int quiet, bc_wallet_audit_out *a)
{
    findings f = { 0 };
    records w;
    char reason[REASON_MAX + 1];
    size_t i;
    int ok, frozen = 0;

    if (!records_read(&w, c, cmd, o, 0)) {
        return -1;
    }
    if (w.state.n == 0 && w.ledger.n == 0) {
        fprintf(stderr, "bitcache %s: no wallet %s\n", cmd, o->widhex);
        records_free(&w);
        return -1;
    }
    ok = run_audit(a, &f, &w, o);
    if (f.oom) {
        fprintf(stderr, "bitcache %s: out of memory\n", cmd);
        findings_free(&f);
        records_free(&w);
        return -1;
    }
    if (!ok && !no_freeze) {
        audit_reason(reason, sizeof(reason), &f);
        frozen = freeze(c, cmd, o, reason);
    }
    if (quiet) {
        /* the caller says what it does about it */
    } else if (o->json) {
        printf("{\"wallet\":\"%s\",\"ok\":%s,\"entries\":%zu,\"verified_entries\":%llu,"
               "\"balance_sats\":", o->widhex, ok ? "true" : "false", w.ledger.n,
               (unsigned long long) a->good);
        if (a->state_parsed) printf("%llu", (unsigned long long) a->state.balance);
        else printf("null");
        printf(",\"credits\":%llu,\"credited_sats\":%llu,\"debits\":%llu,\"debited_sats\":%llu,"
               "\"attestations_checked\":%s,\"problems\":[",
               (unsigned long long) a->credits, (unsigned long long) a->credited,
               (unsigned long long) a->debits, (unsigned long long) a->debited,
               o->have_xonly ? "true" : "false");
        for (i = 0; i < f.n; i++) {
            printf("%s{\"entry\":", i ? "," : "");
            if (f.v[i].seq) printf("%llu", (unsigned long long) f.v[i].seq);
            else printf("null");
            printf(",\"problem\":");
            print_json_str(f.v[i].what, strlen(f.v[i].what));
            putchar('}');
        }
        printf("],\"frozen\":%s}\n", frozen > 0 ? "true" : "false");
    } else {
        print_summary_text(&w, a, o);
        for (i = 0; i < f.n; i++) {
            print_finding(stdout, &f.v[i]);
            putchar('\n');
        }
        if (!o->have_xonly && a->credits) {
            printf("note: the credits' attestations were not checked (--watcher-key)\n");
        }
        if (ok) {
            printf("audit: ok, it adds up\n");
        } else {
            printf("audit: %zu problem%s%s\n", f.n, f.n == 1 ? "" : "s",
                   frozen > 0 ? "; the wallet is frozen (bitcache wallet repair, or unfreeze "
                   "once it adds up)" : no_freeze ? "; not frozen (--no-freeze)" : "");
        }
    }
    findings_free(&f);
    records_free(&w);
    return ok ? 0 : 1;
}

static int
wallet_audit(int argc, char **argv)
{
    static const char cmd[] = "wallet audit";
    bc_wallet_audit_out a;
    wallet_opts o;
    redisContext *c;
    int rc;

    if ((rc = wallet_opts_parse(&o, argc, argv, cmd, USAGE_AUDIT, "skfn", "s"))) {
        return rc;
    }
    if ((c = redis_open(&o.ro, cmd)) == NULL) {
        wallet_opts_clear(&o);
        return 1;
    }
    rc = audit_and_report(c, cmd, &o, o.no_freeze, 0, &a);
    redisFree(c);
    wallet_opts_clear(&o);
    return rc == 0 ? 0 : 1;
}

/* ---- show ---------------------------------------------------------------- */

static int
wallet_show(int argc, char **argv)
{
    static const char cmd[] = "wallet show";
    unsigned char buf[BC_LEDGER_ENTRY_MAX];
    char created[32], last[32], err[128];
    uint64_t credits = 0, debits = 0, credited = 0, debited = 0, last_time = 0;
    size_t pending = 0, i;
    bc_wallet_state st;
    bc_ledger_entry e;
    wallet_opts o;
    records w;
    redisContext *c;
    const char *frozen = NULL;
    size_t frozen_len = 0, unparsed = 0;
    int rc, parsed, mac_ok = -1, adds_up = -1;

    if ((rc = wallet_opts_parse(&o, argc, argv, cmd, USAGE_SHOW, "skf", ""))) {
        return rc;
    }
    if ((c = redis_open(&o.ro, cmd)) == NULL || !records_read(&w, c, cmd, &o, 0)) {
        if (c) redisFree(c);
        wallet_opts_clear(&o);
        return 1;
    }
    rc = 1;
    if (w.state.n == 0 && w.ledger.n == 0) {
        fprintf(stderr, "bitcache %s: no wallet %s\n", cmd, o.widhex);
        goto done;
    }
    parsed = bc_wallet_state_parse(&st, o.wid, w.state.v, w.state.len, w.state.n, err,
                                   sizeof(err));
    frozen = kv_get(w.state.v, w.state.len, w.state.n, "frozen", &frozen_len);
    if (parsed && o.have_keys) mac_ok = bc_wallet_state_ok(&st, &o.keys);
    for (i = 0; i < w.ledger.n; i++) {
        if (w.ledger.len[i] >= sizeof(buf)
            || !bc_ledger_entry_parse(&e, buf, w.ledger.v[i], w.ledger.len[i], err, sizeof(err)))
        {
            unparsed++;
            continue;
        }
        if (e.kind == BC_ENTRY_CREDIT) {
            credits++;
            credited += e.amount;
        } else {
            debits++;
            debited += e.amount;
        }
        last_time = e.time;
    }
    for (i = 0; i + 1 < w.wtop.n; i += 2) {
        pending += w.wtop.len[i + 1] == 1 && w.wtop.v[i + 1][0] == '0';
    }
    if (o.have_keys) {
        bc_wallet_audit_out a;
        findings f = { 0 };

        adds_up = run_audit(&a, &f, &w, &o);
        findings_free(&f);
    }
    format_time(created, parsed ? (unsigned long long) st.created : 0);
    format_time(last, (unsigned long long) last_time);
    if (o.json) {
        printf("{\"wallet\":\"%s\",\"state\":%s", o.widhex, parsed ? "\"ok\"" : "\"malformed\"");
        if (parsed) {
            printf(",\"network\":%u,\"created\":%llu,\"seq\":%llu,\"balance_sats\":%llu,"
                   "\"max_auto_price\":%llu", st.network, (unsigned long long) st.created,
                   (unsigned long long) st.seq, (unsigned long long) st.balance,
                   (unsigned long long) st.max_auto);
        }
        printf(",\"state_mac\":%s,\"frozen\":", mac_ok < 0 ? "null" : mac_ok ? "true" : "false");
        if (frozen) print_json_str(frozen, frozen_len);
        else printf("null");
        printf(",\"entries\":%zu,\"credits\":%llu,\"credited_sats\":%llu,\"debits\":%llu,"
               "\"debited_sats\":%llu,\"unreadable_entries\":%zu,\"pending_topups\":%zu,"
               "\"owned\":%zu,\"audit\":%s}\n", w.ledger.n, (unsigned long long) credits,
               (unsigned long long) credited, (unsigned long long) debits,
               (unsigned long long) debited, unparsed, pending, w.wown.n / 2,
               adds_up < 0 ? "null" : adds_up ? "\"ok\"" : "\"problems\"");
    } else {
        printf("wallet %s\n", o.widhex);
        if (parsed) {
            printf("  state:      seq %llu, balance %llu sats, created %s, network %u, "
                   "max_auto_price %llu\n", (unsigned long long) st.seq,
                   (unsigned long long) st.balance, created, st.network,
                   (unsigned long long) st.max_auto);
        } else {
            printf("  state:      malformed, %s\n", err);
        }
        printf("  state MAC:  %s\n", mac_ok < 0 ? "not checked (--secret)"
               : mac_ok ? "ok" : "DOES NOT VERIFY");
        printf("  frozen:     ");
        if (frozen) print_clean(stdout, frozen, frozen_len);
        else printf("no");
        printf("\n  ledger:     %zu entries: %llu credits (%llu sats), %llu debits (%llu sats)",
               w.ledger.n, (unsigned long long) credits, (unsigned long long) credited,
               (unsigned long long) debits, (unsigned long long) debited);
        if (unparsed) printf(", %zu unreadable", unparsed);
        if (last_time) printf(", last %s", last);
        printf("\n  top-ups:    %zu listed, %zu pending\n", w.wtop.n / 2, pending);
        printf("  owned:      %zu products\n", w.wown.n / 2);
        printf("  audit:      %s\n", adds_up < 0 ? "not run (--secret)"
               : adds_up ? "ok" : "PROBLEMS (bitcache wallet audit)");
    }
    rc = 0;
done:
    records_free(&w);
    redisFree(c);
    wallet_opts_clear(&o);
    return rc;
}

/* ---- freeze / unfreeze --------------------------------------------------- */

static int
wallet_freeze(int argc, char **argv)
{
    static const char cmd[] = "wallet freeze";
    wallet_opts o;
    redisContext *c;
    int rc;

    if ((rc = wallet_opts_parse(&o, argc, argv, cmd, USAGE_FREEZE, "r", "r"))) {
        return rc;
    }
    if ((c = redis_open(&o.ro, cmd)) == NULL) {
        return 1;
    }
    switch (freeze(c, cmd, &o, o.reason)) {
    case 1:
        printf("wallet %s frozen: %s\n", o.widhex, o.reason);
        rc = 0;
        break;
    case 0:
        rc = run_error(cmd, "no wallet %s", o.widhex);
        break;
    default:
        rc = 1;
    }
    redisFree(c);
    return rc;
}

static int
wallet_unfreeze(int argc, char **argv)
{
    static const char cmd[] = "wallet unfreeze";
    bc_wallet_audit_out a;
    char key[KEY_MAX];
    wallet_opts o;
    redisContext *c;
    redisReply *r;
    int rc, audited;

    if ((rc = wallet_opts_parse(&o, argc, argv, cmd, USAGE_UNFREEZE, "skF", "s"))) {
        return rc;
    }
    if ((c = redis_open(&o.ro, cmd)) == NULL) {
        wallet_opts_clear(&o);
        return 1;
    }
    rc = 1;
    audited = audit_and_report(c, cmd, &o, 1, 0, &a);
    if (audited < 0) goto done;
    if (audited > 0 && !o.force) {
        fprintf(stderr, "bitcache %s: refused: the wallet does not add up (bitcache wallet "
                "repair, or --force)\n", cmd);
        goto done;
    }
    wallet_key(key, &o, BC_KEY_WALLET);
    r = redis_run(c, cmd, 3, (const char *[]) { "HDEL", key, "frozen" },
                  (size_t[]) { 4, strlen(key), 6 });
    if (r == NULL) goto done;
    printf("wallet %s %s%s\n", o.widhex, r->integer ? "unfrozen" : "was not frozen",
           audited > 0 ? " (--force: it does NOT add up)" : "");
    freeReplyObject(r);
    rc = 0;
done:
    redisFree(c);
    wallet_opts_clear(&o);
    return rc;
}

/* ---- repair -------------------------------------------------------------- */

/* 1 if ownership record value v of product p verifies and names a debit
 * of the kept entries 1..good that is this purchase of p. */
static int
owned_kept(const records *w, const wallet_opts *o, uint64_t good, const char *p, size_t plen,
    const char *v, size_t vlen)
{
    unsigned char buf[BC_LEDGER_ENTRY_MAX];
    char err[128];
    bc_wallet_owned own;
    bc_ledger_entry e;
    size_t i;

    if (!bc_wallet_owned_parse(&own, v, vlen, o->wid, p, plen, &o->keys, err, sizeof(err))
        || own.seq == 0 || own.seq > good)
    {
        return 0;
    }
    i = own.seq - 1;
    return w->ledger.len[i] < sizeof(buf)
           && bc_ledger_entry_parse(&e, buf, w->ledger.v[i], w->ledger.len[i], err, sizeof(err))
           && e.kind == BC_ENTRY_DEBIT && e.product_len == plen
           && memcmp(e.product, p, plen) == 0 && memcmp(e.purchase, own.purchase, 16) == 0
           && e.uses == own.uses && e.expires == own.expires;
}

/* The seq of the kept credit of top-up id, or 0. */
static uint64_t
kept_credit(const records *w, uint64_t good, const unsigned char *id)
{
    unsigned char buf[BC_LEDGER_ENTRY_MAX];
    char err[128];
    bc_ledger_entry e;
    uint64_t i;

    for (i = 0; i < good; i++) {
        if (w->ledger.len[i] < sizeof(buf)
            && bc_ledger_entry_parse(&e, buf, w->ledger.v[i], w->ledger.len[i], err, sizeof(err))
            && e.kind == BC_ENTRY_CREDIT && memcmp(e.invoice, id, BC_INVOICE_ID_LEN) == 0)
        {
            return i + 1;
        }
    }
    return 0;
}

static void
append_argv(redisContext *c, size_t n, const char **v, const size_t *len)
{
    redisAppendCommandArgv(c, (int) n, v, len);
}

static int
wallet_repair(int argc, char **argv)
{
    static const char cmd[] = "wallet repair";
    char kwal[KEY_MAX], kled[KEY_MAX], ktop[KEY_MAX], kown[KEY_MAX], kbad[KEY_MAX],
         kownbad[KEY_MAX], last[24], seqs[32][24], idhex[2 * BC_INVOICE_ID_LEN + 1];
    unsigned char id[BC_INVOICE_ID_LEN];
    char said[512];
    const char **v = NULL;
    size_t *len = NULL, i, nv, cmds = 0, dropped_own = 0, retopped = 0;
    bc_wallet_audit_out a;
    bc_wallet_state st;
    bc_wallet_state_argv sa;
    findings f = { 0 };
    wallet_opts o;
    records w;
    redisContext *c;
    redisReply *r;
    uint64_t seq, kept;
    bc_keys only;
    int rc, ok, resign = 0;

    if ((rc = wallet_opts_parse(&o, argc, argv, cmd, USAGE_REPAIR, "sk", "s"))) {
        return rc;
    }
    if ((c = redis_open(&o.ro, cmd)) == NULL) {
        wallet_opts_clear(&o);
        return 1;
    }
    rc = 1;
    if (!records_read(&w, c, cmd, &o, 1)) {
        goto out;
    }
    if (w.state.n == 0 && w.ledger.n == 0) {
        fprintf(stderr, "bitcache %s: no wallet %s\n", cmd, o.widhex);
        goto done;
    }
    ok = run_audit(&a, &f, &w, &o);
    if (f.oom) goto done;
    only = o.keys;
    only.old = NULL;            /* the new secret alone */
    if (ok && !(o.have_old && a.state_parsed && !bc_wallet_state_ok(&a.state, &only))) {
        printf("wallet %s adds up: nothing to repair\n", o.widhex);
        rc = 0;
        goto done;
    }
    if (ok) {
        /* a rotation: the state of the old secret signed again under the
         * new one, nothing else changes (its frozen mark stays) */
        resign = 1;
        printf("wallet %s adds up; its state verifies only under --old-secret: signing it "
               "again under --secret\n", o.widhex);
    }
    for (i = 0; i < f.n; i++) {
        printf("found: ");
        print_finding(stdout, &f.v[i]);
        putchar('\n');
    }

    /* the new state: the kept prefix's end, the rest of the old state */
    memset(&st, 0, sizeof(st));
    memcpy(st.wid, o.wid, BC_WALLET_ID_LEN);
    if (a.state_parsed) {
        st.network = a.state.network;
        st.created = a.state.created;
        st.max_auto = a.state.max_auto;
    } else if (a.good_network >= 0) {
        st.network = (uint8_t) a.good_network;
        st.created = (uint64_t) time(NULL);
    } else {
        fprintf(stderr, "bitcache %s: the state does not parse and no kept credit says the "
                "wallet's network: repair by hand\n", cmd);
        goto done;
    }
    st.seq = a.good;
    st.balance = a.good_balance;
    if (a.good) memcpy(st.head, a.good_head, 32);
    if (!bc_wallet_state_mac(st.mac, &st, &o.keys)) {
        fprintf(stderr, "bitcache %s: cannot compute the state's MAC\n", cmd);
        goto done;
    }
    bc_wallet_state_argv_make(&sa, &st);

    wallet_key(kwal, &o, BC_KEY_WALLET);
    wallet_key(kled, &o, BC_KEY_LEDGER);
    wallet_key(ktop, &o, BC_KEY_TOPUPS);
    wallet_key(kown, &o, BC_KEY_OWNED);
    wallet_key(kbad, &o, KEY_LEDGER_BAD);
    wallet_key(kownbad, &o, KEY_OWNED_BAD);
    nv = 2 + (w.ledger.n > w.wown.n ? w.ledger.n : w.wown.n) + 18;
    if ((v = calloc(nv, sizeof(*v))) == NULL || (len = calloc(nv, sizeof(*len))) == NULL) {
        fprintf(stderr, "bitcache %s: out of memory\n", cmd);
        goto done;
    }
    redisAppendCommand(c, "MULTI");
    cmds++;
    if (w.ledger.n > a.good) {
        v[0] = "RPUSH"; len[0] = 5;
        v[1] = kbad; len[1] = strlen(kbad);
        for (i = a.good; i < w.ledger.n; i++) {
            v[2 + i - a.good] = w.ledger.v[i];
            len[2 + i - a.good] = w.ledger.len[i];
        }
        append_argv(c, 2 + w.ledger.n - a.good, v, len);
        if (a.good) {
            snprintf(last, sizeof(last), "%llu", (unsigned long long) (a.good - 1));
            redisAppendCommand(c, "LTRIM %s 0 %s", kled, last);
        } else {
            redisAppendCommand(c, "DEL %s", kled);
        }
        cmds += 2;
    }
    /* a fresh state: its 8 fields, the frozen mark gone */
    redisAppendCommand(c, "DEL %s", kwal);
    v[0] = "HSET"; len[0] = 4;
    v[1] = kwal; len[1] = strlen(kwal);
    for (i = 0; i < 16; i++) {
        v[2 + i] = sa.argv[i];
        len[2 + i] = sa.argvlen[i];
    }
    append_argv(c, 18, v, len);
    cmds += 2;
    if (resign && a.state.frozen != NULL) {
        redisAppendCommandArgv(c, 4, (const char *[]) { "HSET", kwal, "frozen", a.state.frozen },
                               (size_t[]) { 4, strlen(kwal), 6, a.state.frozen_len });
        cmds++;
    }
    /* ownership records that do not name a kept purchase: out of wown */
    for (i = 0; i + 1 < w.wown.n; i += 2) {
        if (owned_kept(&w, &o, a.good, w.wown.v[i], w.wown.len[i], w.wown.v[i + 1],
                       w.wown.len[i + 1]))
        {
            continue;
        }
        redisAppendCommandArgv(c, 4, (const char *[]) { "HSET", kownbad, w.wown.v[i],
                               w.wown.v[i + 1] }, (size_t[]) { 4, strlen(kownbad),
                               w.wown.len[i], w.wown.len[i + 1] });
        redisAppendCommandArgv(c, 3, (const char *[]) { "HDEL", kown, w.wown.v[i] },
                               (size_t[]) { 4, strlen(kown), w.wown.len[i] });
        cmds += 2;
        dropped_own++;
    }
    /* wtop as the kept ledger says: a top-up whose credit was taken out is
     * pending again (the module credits it again while its invoice lives) */
    for (i = 0; i + 1 < w.wtop.n; i += 2) {
        if (w.wtop.len[i] != 2 * BC_INVOICE_ID_LEN
            || !bc_hex_decode(id, sizeof(id), w.wtop.v[i], w.wtop.len[i])
            || !bc_parse_uint_n(&seq, w.wtop.v[i + 1], w.wtop.len[i + 1], UINT64_MAX))
        {
            continue;
        }
        kept = kept_credit(&w, a.good, id);
        if (kept == seq) continue;
        snprintf(seqs[retopped % 32], sizeof(seqs[0]), "%llu", (unsigned long long) kept);
        bc_hex_encode(idhex, id, sizeof(id));
        redisAppendCommand(c, "HSET %s %s %s", ktop, idhex, seqs[retopped % 32]);
        cmds++;
        printf("top-up %s: %s\n", idhex, kept ? "credited by a kept entry"
               : "pending again (its credit was taken out)");
        retopped++;
    }
    redisAppendCommand(c, "EXEC");
    cmds++;
    for (i = 0; i < cmds; i++) {
        if (redisGetReply(c, (void **) &r) != REDIS_OK) {
            fprintf(stderr, "bitcache %s: redis: %s\n", cmd, c->errstr);
            goto done;
        }
        if (i + 1 == cmds) {
            if (r->type != REDIS_REPLY_ARRAY) {
                fprintf(stderr, "bitcache %s: the wallet changed while it was read (a "
                        "purchase?): nothing done; run repair again\n", cmd);
                freeReplyObject(r);
                goto done;
            }
        } else if (r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "bitcache %s: redis: %s\n", cmd,
                    bc_log_text(said, sizeof(said), r->str, r->len));
        }
        freeReplyObject(r);
    }
    if (resign) {
        printf("wallet %s: state signed again under the new secret (seq %llu, balance %llu "
               "sats)\n", o.widhex, (unsigned long long) a.good,
               (unsigned long long) a.good_balance);
        rc = 0;
        goto done;
    }
    printf("wallet %s repaired: kept entries 1..%llu, balance %llu sats; %zu entr%s moved to "
           "%s; %zu ownership record%s moved to %s; %zu top-up%s corrected; state re-signed, "
           "no longer frozen\n", o.widhex, (unsigned long long) a.good,
           (unsigned long long) a.good_balance, w.ledger.n - a.good,
           w.ledger.n - a.good == 1 ? "y" : "ies", kbad, dropped_own,
           dropped_own == 1 ? "" : "s", kownbad, retopped, retopped == 1 ? "" : "s");
    rc = 0;
done:
    free(v);
    free(len);
    findings_free(&f);
    records_free(&w);
out:
    redisFree(c);
    wallet_opts_clear(&o);
    return rc;
}

int
cmd_wallet(int argc, char **argv)
{
    static const subcommand subs[] = {
        { "show", wallet_show, USAGE_SHOW },
        { "audit", wallet_audit, USAGE_AUDIT },
        { "freeze", wallet_freeze, USAGE_FREEZE },
        { "unfreeze", wallet_unfreeze, USAGE_UNFREEZE },
        { "repair", wallet_repair, USAGE_REPAIR },
    };

    return run_subcommand("wallet", subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}
