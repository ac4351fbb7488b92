/* Test tool: records a payment of an invoice the way the watcher will
 * (docs/protocol.md, "Payment attestation"): reads the invoice's spk,
 * signs the payment message with a BIP340 key and writes state, received,
 * conf, paid_at and att into inv:<id>.
 *
 *   pay_invoice --redis ADDR --key SECKEYHEX [--prefix P] [--paid-at T]
 *               [--state paid|seen|underpaid] [--publish CHANNEL]
 *               [--network N (sign for N's chain, not the invoice's)] ID RECEIVED CONF
 *   pay_invoice --pubkey SECKEYHEX        prints the x-only public key (hex)
 *
 * Exits 0, 1 (Redis, no such invoice) or 2 (bad arguments). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "hex.h"
#include "invoice.h"
#include "invoice_record.h"
#include "network.h"
#include "schnorr.h"
#include "script.h"

static int
die(int rc, const char *msg, const char *arg)
{
    fprintf(stderr, "pay_invoice: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    return rc;
}

static redisContext *
connect_redis(const char *addr)
{
    struct timeval tv = { 5, 0 };
    char host[256];
    const char *colon = strrchr(addr, ':');

    if (strncmp(addr, "unix:", 5) == 0) {
        return redisConnectUnixWithTimeout(addr + 5, tv);
    }
    if (colon == NULL || (size_t) (colon - addr) >= sizeof(host)) {
        return NULL;
    }
    snprintf(host, sizeof(host), "%.*s", (int) (colon - addr), addr);
    return redisConnectWithTimeout(host, atoi(colon + 1), tv);
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "redis", required_argument, NULL, 'r' },
        { "key", required_argument, NULL, 'k' },
        { "pubkey", required_argument, NULL, 'x' },
        { "prefix", required_argument, NULL, 'p' },
        { "paid-at", required_argument, NULL, 't' },
        { "state", required_argument, NULL, 's' },
        { "publish", required_argument, NULL, 'P' },
        { "network", required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 }
    };
    const char *addr = NULL, *keyhex = NULL, *pubhex = NULL, *prefix = "bitcache:";
    const char *state = "paid", *channel = NULL, *idhex;
    unsigned char seckey[32], xonly[32], id[BC_INVOICE_ID_LEN], spk[BC_SPK_MAX], msg[32];
    unsigned char sig[64];
    char hex[129], key[512], received_s[24], conf_s[24], paid_s[24];
    uint64_t received, conf, paid_at = (uint64_t) time(NULL);
    bc_invoice_state st;
    size_t spklen;
    redisContext *c;
    redisReply *r, *e;
    bc_network bn;
    int ch, net = -1;

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'r': addr = optarg; break;
        case 'k': keyhex = optarg; break;
        case 'x': pubhex = optarg; break;
        case 'p': prefix = optarg; break;
        case 's': state = optarg; break;
        case 'P': channel = optarg; break;
        case 'n':
            if (!bc_network_parse(&bn, optarg)) {
                return die(2, "--network is not a network", optarg);
            }
            net = (int) bn;
            break;
        case 't':
            if (!bc_parse_uint_n(&paid_at, optarg, strlen(optarg), UINT64_MAX)) {
                return die(2, "--paid-at is not a unix time", optarg);
            }
            break;
        default:
            return die(2, "unknown or incomplete option", argv[optind - 1]);
        }
    }
    if (pubhex) {
        if (strlen(pubhex) != 64 || !bc_hex_decode(seckey, 32, pubhex, 64)
            || !bc_xonly_from_seckey(xonly, seckey))
        {
            return die(2, "--pubkey: not a secret key (64 hex digits)", pubhex);
        }
        bc_hex_encode(hex, xonly, 32);
        printf("%s\n", hex);
        return 0;
    }
    if (addr == NULL || keyhex == NULL || argc - optind != 3) {
        return die(2, "usage: pay_invoice --redis ADDR --key SECKEYHEX [--prefix P] "
                   "[--paid-at T] [--state paid|seen|underpaid] [--publish CHANNEL] "
                   "ID RECEIVED CONF", NULL);
    }
    idhex = argv[optind];
    if (strlen(keyhex) != 64 || !bc_hex_decode(seckey, 32, keyhex, 64)) {
        return die(2, "--key: not 64 hex digits", keyhex);
    }
    if (strlen(idhex) != 32 || !bc_hex_decode(id, sizeof(id), idhex, 32)) {
        return die(2, "ID is not 32 hex digits", idhex);
    }
    if (!bc_parse_uint_n(&received, argv[optind + 1], strlen(argv[optind + 1]), UINT64_MAX)) {
        return die(2, "RECEIVED is not a number of satoshis", argv[optind + 1]);
    }
    if (!bc_parse_uint_n(&conf, argv[optind + 2], strlen(argv[optind + 2]), UINT32_MAX)) {
        return die(2, "CONF is not a number of confirmations", argv[optind + 2]);
    }
    if (!bc_invoice_state_parse(&st, state, strlen(state))) {
        return die(2, "--state is not a state", state);
    }

    c = connect_redis(addr);
    if (c == NULL || c->err) {
        return die(1, "cannot connect to redis", addr);
    }
    snprintf(key, sizeof(key), "%sinv:%s", prefix, idhex);
    r = redisCommand(c, "HMGET %s spk network", key);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        return die(1, "no invoice with an spk", key);
    }
    e = r->element[0];
    if (e->type != REDIS_REPLY_STRING || e->len % 2 || e->len / 2 > BC_SPK_MAX
        || !bc_hex_decode(spk, e->len / 2, e->str, e->len))
    {
        return die(1, "no invoice with an spk", key);
    }
    spklen = e->len / 2;
    if (net < 0) {      /* the invoice's own network unless --network */
        e = r->element[1];
        if (e->type != REDIS_REPLY_STRING || e->len != 1 || e->str[0] < '0' || e->str[0] > '3') {
            return die(1, "no invoice with a network", key);
        }
        net = e->str[0] - '0';
    }
    freeReplyObject(r);

    if (!bc_payment_msg(msg, bc_network_genesis((unsigned) net), id, spk, spklen, received,
                        (uint32_t) conf, paid_at)
        || !bc_schnorr_sign(sig, msg, seckey, NULL))
    {
        return die(1, "cannot sign (is the key valid?)", keyhex);
    }
    bc_hex_encode(hex, sig, 64);
    snprintf(received_s, sizeof(received_s), "%llu", (unsigned long long) received);
    snprintf(conf_s, sizeof(conf_s), "%llu", (unsigned long long) conf);
    snprintf(paid_s, sizeof(paid_s), "%llu", (unsigned long long) paid_at);
    r = redisCommand(c, "HSET %s state %s received %s conf %s paid_at %s att %s", key,
                     bc_invoice_state_str(st), received_s, conf_s, paid_s, hex);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        return die(1, "HSET failed", c->errstr);
    }
    freeReplyObject(r);
    if (channel) {
        r = redisCommand(c, "PUBLISH %s %s", channel, idhex);
        if (r) freeReplyObject(r);
    }
    redisFree(c);
    printf("%s\n", hex);
    return 0;
}
