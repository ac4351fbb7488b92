/* bitcache grant: mint a download token without a payment
 * (comp copies, support, tests) and record it in Redis. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "commands.h"
#include "hex.h"
#include "redis_conn.h"
#include "token_record.h"
#include "secret.h"
#include "token.h"

static const char usage[] =
    "usage: bitcache grant --secret FILE --redis ADDR [--ttl 1d] [--uses N] PRODUCT";

int
cmd_grant(int argc, char **argv)
{
    static const struct option opts[] = {
        { "secret", required_argument, NULL, 's' },
        { "ttl", required_argument, NULL, 't' },
        { "uses", required_argument, NULL, 'u' },
        REDIS_LONG_OPTIONS,
        { NULL, 0, NULL, 0 }
    };
    char token[BC_TOKEN_MAX_CHARS + 1], key[BC_TOKREC_KEY_MAX];
    char uses_s[24], exp_s[24], err[512];
    const char *secret = NULL, *argvr[8];
    size_t lens[8];
    uint64_t ttl = 86400, uses = 1;
    redis_opts ro;
    redisContext *c;
    redisReply *r;
    bc_keys keys;
    bc_token t;
    int ch, taken, rc = 1;

    redis_opts_init(&ro);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((taken = redis_opts_take(&ro, "grant", ch, optarg)) != 0) {
            if (taken < 0) return EXIT_USAGE;
            continue;
        }
        switch (ch) {
        case 's':
            secret = optarg;
            break;
        case 't':
            if (!parse_duration(&ttl, optarg)) {
                return usage_error("grant", "--ttl: \"%s\" is not a duration "
                                   "(e.g. 3600, 30m, 12h, 7d)", optarg);
            }
            break;
        case 'u':
            if (!parse_uint(&uses, optarg, UINT32_MAX)) {
                return usage_error("grant", "--uses: \"%s\" is not a number "
                                   "of downloads (0 = unlimited)", optarg);
            }
            break;
        default:
            return usage_error("grant", "unknown or incomplete option \"%s\"\n%s",
                               argv[optind - 1], usage);
        }
    }
    if (secret == NULL) {
        return usage_error("grant", "--secret FILE is required\n%s", usage);
    }
    if (ro.addr == NULL) {
        return usage_error("grant", "--redis ADDR is required\n%s", usage);
    }
    if (optind != argc - 1) {
        return usage_error("grant", "exactly one PRODUCT is needed\n%s", usage);
    }
    t.product = (const unsigned char *) argv[optind];
    t.product_len = strlen(argv[optind]);
    if (t.product_len == 0 || t.product_len > BC_TOKEN_PRODUCT_MAX) {
        return usage_error("grant", "PRODUCT must be 1 to %d bytes",
                           BC_TOKEN_PRODUCT_MAX);
    }
    if (strlen(ro.prefix) > 128) {
        return usage_error("grant", "--redis-prefix is longer than 128 bytes");
    }
    if (!bc_secret_load(&keys, secret, err, sizeof(err))) {
        return usage_error("grant", "--secret: %s", err);
    }

    t.expires = (uint64_t) time(NULL) + ttl;
    t.uses = (uint32_t) uses;
    if (!bc_token_new_id(t.id) || bc_token_encode(token, &t, &keys) == 0) {
        bc_keys_clear(&keys);
        return run_error("grant", "cannot make a token");
    }
    bc_keys_clear(&keys);

    c = redis_open(&ro, "grant");
    if (c == NULL) {
        return 1;
    }
    bc_tokrec_key(key, sizeof(key), ro.prefix, t.id);
    snprintf(uses_s, sizeof(uses_s), "%u", (unsigned) t.uses);
    snprintf(exp_s, sizeof(exp_s), "%llu", (unsigned long long) t.expires);

    argvr[0] = "EVAL";
    argvr[1] = BC_SCRIPT_TOKEN_CREATE;
    argvr[2] = "1";
    argvr[3] = key;
    argvr[4] = "";                      /* unused (see the script) */
    argvr[5] = uses_s;
    argvr[6] = argv[optind];
    argvr[7] = exp_s;
    for (ch = 0; ch < 8; ch++) {
        lens[ch] = strlen(argvr[ch]);
    }
    r = redis_run(c, "grant", 8, argvr, lens);
    if (r != NULL) {
        if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
            printf("%s\n", token);
            rc = 0;
        } else {
            fprintf(stderr, "bitcache grant: token id already taken, try again\n");
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return rc;
}
