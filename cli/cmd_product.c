/* bitcache product set|list|rm: a creator's catalog records prod:<product>
 * (price, wallet, title and their MAC), which the module prefers over the
 * location's directives, so that prices change without a reload. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "bip21.h"
#include "commands.h"
#include "hex.h"
#include "invoice.h"
#include "invoice_record.h"
#include "records.h"
#include "secret.h"
#include "wallet.h"

#define USAGE_SET  "usage: bitcache product set PRODUCT --price SATS|\"N BTC\" [--wallet KEY] " \
                   "[--title T] --secret FILE --redis ADDR"
#define USAGE_LIST "usage: bitcache product list --redis ADDR [--secret FILE]"
#define USAGE_RM   "usage: bitcache product rm --redis ADDR PRODUCT"

static int
load_secret(bc_keys *keys, const char *cmd, const char *path)
{
    char err[512];

    if (!bc_secret_load(keys, path, err, sizeof(err))) {
        return usage_error(cmd, "--secret: %s", err);
    }
    return 0;
}

static int
check_product(const char *cmd, const char *product)
{
    if (strlen(product) == 0 || strlen(product) > BC_OFFER_FIELD_MAX) {
        return usage_error(cmd, "PRODUCT must be 1 to %d bytes", BC_OFFER_FIELD_MAX);
    }
    return 0;
}

static int
product_set(int argc, char **argv)
{
    static const char cmd[] = "product set";
    char key[256 + BC_OFFER_FIELD_MAX], mac_hex[65], price_s[24], btc[BC_BTC_AMOUNT_MAX];
    const char *product, *wallet, *title, *err = NULL, *argvr[10];
    unsigned char mac[32];
    size_t lens[10], i;
    uint64_t price;
    record_opts o;
    bc_wallet w;
    bc_keys keys;
    redisContext *c;
    redisReply *r;
    int rc;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_SET, "spwt", "ps", 1, "PRODUCT"))) {
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
    if ((rc = load_secret(&keys, cmd, o.secret))) {
        return rc;
    }
    rc = bc_product_mac(mac, product, strlen(product), price, wallet, strlen(wallet), title,
                        strlen(title), &keys);
    bc_keys_clear(&keys);
    if (!rc) {
        return run_error(cmd, "cannot compute the record's MAC");
    }
    bc_hex_encode(mac_hex, mac, 32);
    snprintf(price_s, sizeof(price_s), "%llu", (unsigned long long) price);
    snprintf(key, sizeof(key), "%sprod:%s", o.ro.prefix, product);

    c = redis_open(&o.ro, cmd);
    if (c == NULL) {
        return 1;
    }
    /* one HSET writes the whole record: no reader sees a new price with
     * an old MAC (fields of other versions, if any, are ignored) */
    argvr[0] = "HSET"; argvr[1] = key;
    argvr[2] = "price"; argvr[3] = price_s;
    argvr[4] = "wallet"; argvr[5] = wallet;
    argvr[6] = "title"; argvr[7] = title;
    argvr[8] = "mac"; argvr[9] = mac_hex;
    for (i = 0; i < 10; i++) lens[i] = strlen(argvr[i]);
    r = redis_run(c, cmd, 10, argvr, lens);
    rc = r != NULL;
    if (r) freeReplyObject(r);
    redisFree(c);
    if (!rc) {
        return run_error(cmd, "the record was not written");
    }
    bc_format_btc(btc, price);
    printf("prod:");
    print_clean(stdout, product, strlen(product));
    printf(" price %llu sats (%s BTC), wallet %s\n", (unsigned long long) price, btc,
           wallet[0] ? "set" : "- (the location's)");
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
    bc_format_btc(btc, p.price);
    printf("\t%llu sats\t%s BTC\t", (unsigned long long) p.price, btc);
    print_clean(stdout, p.title, p.title_len);
    putchar('\t');
    if (p.wallet_len) {
        print_clean(stdout, p.wallet, p.wallet_len);
    } else {
        putchar('-');
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
    const char *kv[16];
    size_t kvlen[16], n, skip;
    char **keys = NULL;
    long nkeys, i;
    record_opts o;
    bc_keys hk;
    redisContext *c;
    redisReply *r;
    int rc;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_LIST, "s", "", 0, NULL))) {
        return rc;
    }
    if (o.secret && (rc = load_secret(&hk, cmd, o.secret))) {
        return rc;
    }
    c = redis_open(&o.ro, cmd);
    if (c == NULL || (nkeys = scan_keys(c, cmd, o.ro.prefix, "prod:", &keys)) < 0) {
        if (c) redisFree(c);
        if (o.secret) bc_keys_clear(&hk);
        return 1;
    }
    skip = strlen(o.ro.prefix) + 5;
    rc = 0;
    for (i = 0; i < nkeys; i++) {
        r = hgetall(c, cmd, keys[i], kv, kvlen, 16, &n);
        if (r == NULL) {
            rc = 1;
            continue;
        }
        if (n > 0) {            /* removed meanwhile: not listed */
            print_product(keys[i] + skip, kv, kvlen, n, o.secret ? &hk : NULL);
        }
        freeReplyObject(r);
    }
    free_keys(keys, nkeys);
    redisFree(c);
    if (o.secret) bc_keys_clear(&hk);
    return rc;
}

static int
product_rm(int argc, char **argv)
{
    static const char cmd[] = "product rm";
    char key[256 + BC_OFFER_FIELD_MAX];
    const char *argvr[2];
    size_t lens[2];
    record_opts o;
    redisContext *c;
    redisReply *r;
    int rc;

    if ((rc = record_opts_parse(&o, argc, argv, cmd, USAGE_RM, "", "", 1, "PRODUCT"))) {
        return rc;
    }
    if ((rc = check_product(cmd, argv[optind]))) {
        return rc;
    }
    snprintf(key, sizeof(key), "%sprod:%s", o.ro.prefix, argv[optind]);
    if ((c = redis_open(&o.ro, cmd)) == NULL) {
        return 1;
    }
    argvr[0] = "DEL";
    argvr[1] = key;
    lens[0] = 3;
    lens[1] = strlen(key);
    r = redis_run(c, cmd, 2, argvr, lens);
    rc = 1;
    if (r != NULL) {
        if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
            printf("removed prod:");
            print_clean(stdout, argv[optind], strlen(argv[optind]));
            printf("\n");
            rc = 0;
        } else {
            fprintf(stderr, "bitcache %s: no product \"", cmd);
            print_clean(stderr, argv[optind], strlen(argv[optind]));
            fprintf(stderr, "\"\n");
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return rc;
}

int
cmd_product(int argc, char **argv)
{
    static const subcommand subs[] = {
        { "set", product_set, USAGE_SET },
        { "list", product_list, USAGE_LIST },
        { "rm", product_rm, USAGE_RM }
    };

    return run_subcommand("product", subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}
