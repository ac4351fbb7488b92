/* bitcache revoke: a token (or its id) stops working at once. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "hex.h"
#include "redis_conn.h"
#include "token_record.h"
#include "token.h"

static const char usage[] = "usage: bitcache revoke --redis ADDR TOKEN|ID";

int
cmd_revoke(int argc, char **argv)
{
    static const struct option opts[] = {
        REDIS_LONG_OPTIONS,
        { NULL, 0, NULL, 0 }
    };
    unsigned char buf[BC_TOKEN_MAX_BYTES];
    char key[BC_TOKREC_KEY_MAX], idhex[2 * BC_TOKEN_ID_LEN + 1];
    const char *arg, *argvr[4];
    size_t lens[4];
    redis_opts ro;
    redisContext *c;
    redisReply *r;
    bc_token t;
    int ch, taken, rc = 1;

    redis_opts_init(&ro);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((taken = redis_opts_take(&ro, "revoke", ch, optarg)) != 0) {
            if (taken < 0) return EXIT_USAGE;
            continue;
        }
        return usage_error("revoke", "unknown or incomplete option \"%s\"\n%s",
                           argv[optind - 1], usage);
    }
    if (ro.addr == NULL) {
        return usage_error("revoke", "--redis ADDR is required\n%s", usage);
    }
    if (optind != argc - 1) {
        return usage_error("revoke", "exactly one TOKEN or ID is needed\n%s", usage);
    }
    if (strlen(ro.prefix) > 128) {
        return usage_error("revoke", "--redis-prefix is longer than 128 bytes");
    }
    arg = argv[optind];
    if (strlen(arg) == 2 * BC_TOKEN_ID_LEN && bc_hex_decode(t.id, BC_TOKEN_ID_LEN, arg, strlen(arg))) {
        /* an id */
    } else if (!bc_token_parse(&t, buf, arg, strlen(arg))) {
        return usage_error("revoke", "\"%.40s%s\" is neither a token nor a "
                           "32-digit token id", arg, strlen(arg) > 40 ? "..." : "");
    }

    c = redis_open(&ro, "revoke");
    if (c == NULL) {
        return 1;
    }
    bc_hex_encode(idhex, t.id, BC_TOKEN_ID_LEN);
    bc_tokrec_key(key, sizeof(key), ro.prefix, t.id);
    argvr[0] = "EVAL";
    argvr[1] = BC_SCRIPT_TOKEN_REVOKE;
    argvr[2] = "1";
    argvr[3] = key;
    for (ch = 0; ch < 4; ch++) {
        lens[ch] = strlen(argvr[ch]);
    }
    r = redis_run(c, "revoke", 4, argvr, lens);
    if (r != NULL) {
        if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
            printf("revoked %s\n", idhex);
            rc = 0;
        } else {
            fprintf(stderr, "bitcache revoke: no token %s (expired or never "
                    "granted)\n", idhex);
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return rc;
}
