/* Test fixture writer (never part of Bitcache): writes Bitcache wallet
 * records into Redis under the test's secret with libbitcache, as the
 * module's routes do (docs/wallet.md), so that the audit and sales tests
 * have wallets before, and independently of, the module's routes. No
 * compare-and-set: tests run it alone.
 *
 *   wallet_fixture --redis ADDR --secret FILE [--prefix P] new
 *       a wallet of network regtest with balance 0; prints its id
 *   wallet_fixture ... --key SECKEYHEX [--received N] [--time T] credit WID INVOICE AMOUNT
 *       a credit of top-up INVOICE (32 hex) attested with the BIP340 key
 *       (a wrong key makes a bad attestation); wtop says credited
 *   wallet_fixture ... [--time T] debit WID PRODUCT PRICE SELLER
 *       a purchase of PRODUCT from the seller's wallet text; wown set
 *
 * Exits 0, 1 (Redis, records) or 2 (bad arguments). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <openssl/rand.h>

#include "hex.h"
#include "invoice.h"
#include "invoice_record.h"
#include "network.h"
#include "schnorr.h"
#include "secret.h"
#include "wallet_record.h"

static int
die(int rc, const char *msg, const char *arg)
{
    fprintf(stderr, "wallet_fixture: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    return rc;
}

static redisContext *
connect_redis(const char *addr)
{
    struct timeval tv = { 5, 0 };
    char host[256];
    const char *colon = strrchr(addr, ':');

    if (colon == NULL || (size_t) (colon - addr) >= sizeof(host)) return NULL;
    snprintf(host, sizeof(host), "%.*s", (int) (colon - addr), addr);
    return redisConnectWithTimeout(host, atoi(colon + 1), tv);
}

static int
number(uint64_t *v, const char *s)
{
    return bc_parse_uint_n(v, s, strlen(s), UINT64_MAX);
}

/* Writes state s (its MAC made) with HSET. */
static int
write_state(redisContext *c, const char *key, bc_wallet_state *s, const bc_keys *keys)
{
    bc_wallet_state_argv a;
    const char *argv[18];
    size_t len[18], i;
    redisReply *r;

    if (!bc_wallet_state_mac(s->mac, s, keys)) return 0;
    bc_wallet_state_argv_make(&a, s);
    argv[0] = "HSET"; len[0] = 4;
    argv[1] = key; len[1] = strlen(key);
    for (i = 0; i < 16; i++) {
        argv[2 + i] = a.argv[i];
        len[2 + i] = a.argvlen[i];
    }
    r = redisCommandArgv(c, 18, argv, len);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) return 0;
    freeReplyObject(r);
    return 1;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "redis", required_argument, NULL, 'r' },
        { "secret", required_argument, NULL, 's' },
        { "prefix", required_argument, NULL, 'p' },
        { "key", required_argument, NULL, 'k' },
        { "received", required_argument, NULL, 'R' },
        { "time", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 }
    };
    const char *addr = NULL, *secret = NULL, *prefix = "bitcache:", *keyhex = NULL, *op;
    char err[256], wid_hex[33], kwal[300], kled[300], ktop[300], kown[300], *text;
    unsigned char seckey[32], wsecret[BC_WALLET_SECRET_LEN], wid[BC_WALLET_ID_LEN], msg[32];
    unsigned char buf[BC_LEDGER_ENTRY_MAX];
    char own[BC_OWNED_MAX], seqs[24];
    uint64_t received = 0, now = (uint64_t) time(NULL);
    int ch, have_received = 0;
    const char *kv[64];
    size_t kvlen[64], n, len;
    bc_wallet_state st;
    bc_ledger_entry e;
    bc_wallet_owned o;
    redisContext *c;
    redisReply *r;
    bc_keys keys;

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'r': addr = optarg; break;
        case 's': secret = optarg; break;
        case 'p': prefix = optarg; break;
        case 'k': keyhex = optarg; break;
        case 'R':
            if (!number(&received, optarg)) return die(2, "--received", optarg);
            have_received = 1;
            break;
        case 't':
            if (!number(&now, optarg)) return die(2, "--time", optarg);
            break;
        default:
            return die(2, "unknown option", argv[optind - 1]);
        }
    }
    if (addr == NULL || secret == NULL || optind >= argc) {
        return die(2, "usage: wallet_fixture --redis ADDR --secret FILE new|credit|debit ...",
                   NULL);
    }
    if (!bc_secret_load(&keys, secret, err, sizeof(err))) return die(2, "--secret", err);
    if ((c = connect_redis(addr)) == NULL || c->err) return die(1, "cannot connect", addr);
    op = argv[optind];

    if (strcmp(op, "new") == 0) {
        if (!bc_wallet_secret_new(wsecret) || !bc_wallet_id_of(wid, wsecret)) {
            return die(1, "no wallet id", NULL);
        }
        memset(&st, 0, sizeof(st));
        memcpy(st.wid, wid, sizeof(wid));
        st.network = BC_REGTEST;
        st.created = now;
        bc_hex_encode(wid_hex, wid, sizeof(wid));
        snprintf(kwal, sizeof(kwal), "%s%s%s", prefix, BC_KEY_WALLET, wid_hex);
        if (!write_state(c, kwal, &st, &keys)) return die(1, "HSET", c->errstr);
        printf("%s\n", wid_hex);
        return 0;
    }

    if (optind + 1 >= argc || strlen(argv[optind + 1]) != 32
        || !bc_hex_decode(wid, sizeof(wid), argv[optind + 1], 32))
    {
        return die(2, "WID: 32 hex digits", optind + 1 < argc ? argv[optind + 1] : NULL);
    }
    bc_hex_encode(wid_hex, wid, sizeof(wid));
    snprintf(kwal, sizeof(kwal), "%s%s%s", prefix, BC_KEY_WALLET, wid_hex);
    snprintf(kled, sizeof(kled), "%s%s%s", prefix, BC_KEY_LEDGER, wid_hex);
    snprintf(ktop, sizeof(ktop), "%s%s%s", prefix, BC_KEY_TOPUPS, wid_hex);
    snprintf(kown, sizeof(kown), "%s%s%s", prefix, BC_KEY_OWNED, wid_hex);
    r = redisCommand(c, "HGETALL %s", kwal);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) return die(1, "HGETALL", kwal);
    for (n = 0; n < r->elements && n < 64; n++) {
        kv[n] = r->element[n]->str;
        kvlen[n] = r->element[n]->len;
    }
    if (!bc_wallet_state_parse(&st, wid, kv, kvlen, n, err, sizeof(err))) {
        return die(1, "the state", err);
    }
    memset(&e, 0, sizeof(e));
    e.seq = st.seq + 1;
    e.time = now;
    memcpy(e.prev, st.head, 32);

    if (strcmp(op, "credit") == 0) {
        if (keyhex == NULL || strlen(keyhex) != 64 || !bc_hex_decode(seckey, 32, keyhex, 64)) {
            return die(2, "credit needs --key SECKEYHEX", NULL);
        }
        if (optind + 3 >= argc || strlen(argv[optind + 2]) != 32
            || !bc_hex_decode(e.invoice, sizeof(e.invoice), argv[optind + 2], 32)
            || !number(&e.amount, argv[optind + 3]))
        {
            return die(2, "credit WID INVOICE AMOUNT", NULL);
        }
        e.kind = BC_ENTRY_CREDIT;
        e.network = st.network;
        e.received = have_received ? received : e.amount;
        e.conf = 1;
        e.paid_at = now;
        e.spk_len = 22;
        e.spk[0] = 0x00;
        e.spk[1] = 0x14;
        memcpy(e.spk + 2, e.invoice, 16);
        memcpy(e.spk + 18, e.invoice, 4);
        if (!bc_payment_msg(msg, bc_network_genesis(e.network), e.invoice, e.spk, e.spk_len,
                            e.received, e.conf, e.paid_at)
            || !bc_schnorr_sign(e.att, msg, seckey, NULL))
        {
            return die(1, "cannot sign", NULL);
        }
        e.balance = st.balance + e.amount;
    } else if (strcmp(op, "debit") == 0) {
        if (optind + 4 >= argc || !number(&e.amount, argv[optind + 3])) {
            return die(2, "debit WID PRODUCT PRICE SELLER", NULL);
        }
        if (e.amount > st.balance) return die(1, "balance too low", NULL);
        e.kind = BC_ENTRY_DEBIT;
        if (RAND_bytes(e.purchase, sizeof(e.purchase)) != 1) return die(1, "RAND_bytes", NULL);
        e.uses = 3;
        e.expires = now + 86400;
        e.product = argv[optind + 2];
        e.product_len = strlen(e.product);
        e.seller = argv[optind + 4];
        e.seller_len = strlen(e.seller);
        e.balance = st.balance - e.amount;
    } else {
        return die(2, "unknown operation", op);
    }
    text = (char *) buf;
    if ((len = bc_ledger_entry_encode(text, sizeof(buf), &e, wid, &keys)) == 0) {
        return die(1, "cannot encode the entry", NULL);
    }
    st.seq = e.seq;
    st.balance = e.balance;
    if (!bc_ledger_entry_hash(st.head, text, len)) return die(1, "hash", NULL);
    r = redisCommand(c, "RPUSH %s %b", kled, text, len);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER || (uint64_t) r->integer != e.seq) {
        return die(1, "RPUSH: the ledger is not as long as the state says", kled);
    }
    snprintf(seqs, sizeof(seqs), "%llu", (unsigned long long) e.seq);
    if (e.kind == BC_ENTRY_CREDIT) {
        char ihex[33];

        bc_hex_encode(ihex, e.invoice, 16);
        r = redisCommand(c, "HSET %s %s %s", ktop, ihex, seqs);
    } else {
        memcpy(o.purchase, e.purchase, 16);
        o.uses = e.uses;
        o.expires = e.expires;
        o.seq = e.seq;
        if (bc_wallet_owned_encode(own, &o, wid, e.product, e.product_len, &keys) == 0) {
            return die(1, "cannot encode the ownership", NULL);
        }
        r = redisCommand(c, "HSET %s %b %s", kown, e.product, e.product_len, own);
    }
    if (r == NULL || r->type == REDIS_REPLY_ERROR) return die(1, "HSET", NULL);
    if (!write_state(c, kwal, &st, &keys)) return die(1, "HSET state", NULL);
    printf("%s\n", seqs);
    return 0;
}
