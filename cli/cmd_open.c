/* bitcache open: decrypt a sealed file with a key the operator has (tests,
 * support); the buyer's way, through the host's API, is still to come. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "commands.h"
#include "hex.h"
#include "seal_io.h"
#include "sealed.h"

static const char usage[] = "usage: bitcache open FILE -o OUT --key HEX";

static int
feed(void *arg, const unsigned char *p, size_t n, char *err, size_t errlen)
{
    return bc_opener_update(arg, p, n, err, errlen);
}

int
cmd_open(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "key", required_argument, NULL, 'k' },
        { NULL, 0, NULL, 0 }
    };
    unsigned char key[BC_SEALED_KEY_LEN];
    const char *out = NULL, *keyhex = NULL, *in;
    char err[300];
    uint64_t total;
    bc_opener *o;
    seal_out so;
    int ch, ok;

    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (ch) {
        case 'o':
            out = optarg;
            break;
        case 'k':
            keyhex = optarg;
            break;
        default:
            return usage_error("open", "unknown or incomplete option \"%s\"\n%s",
                               argv[optind - 1], usage);
        }
    }
    if (optind != argc - 1) {
        return usage_error("open", "exactly one FILE is needed\n%s", usage);
    }
    in = argv[optind];
    if (out == NULL) {
        return usage_error("open", "-o OUT is required\n%s", usage);
    }
    if (keyhex == NULL) {
        return usage_error("open", "--key HEX is required (opening through the host "
                           "is not there yet)\n%s", usage);
    }
    if (!bc_hex_decode(key, sizeof(key), keyhex, strlen(keyhex))) {
        return usage_error("open", "--key: not 64 hex digits");
    }
    if (!seal_out_create(&so, out, err, sizeof(err))) {
        OPENSSL_cleanse(key, sizeof(key));
        return run_error("open", "-o: %s", err);
    }
    o = bc_opener_new(key, seal_out_write, &so);
    OPENSSL_cleanse(key, sizeof(key));
    ok = o != NULL && seal_read_all(in, feed, o, &total, err, sizeof(err))
         && bc_opener_finish(o, err, sizeof(err));
    if (o == NULL) {
        snprintf(err, sizeof(err), "out of memory");
    }
    bc_opener_free(o);
    if (!ok) {
        seal_out_end(&so, 0, NULL, 0);
        return run_error("open", "%s: refused, nothing written: %s", in, err);
    }
    if (!seal_out_end(&so, 1, err, sizeof(err))) {
        return run_error("open", "%s", err);
    }
    return 0;
}
