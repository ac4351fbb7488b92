/* bitcache: the admin and watcher command of Bitcache. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
} commands[] = {
    { "secret", cmd_secret, "secret                     print a new HMAC secret (hex) for bitcache_secret" },
    { "grant", cmd_grant, "grant --secret FILE --redis ADDR [--ttl 1d] [--uses N] PRODUCT" },
    { "revoke", cmd_revoke, "revoke --redis ADDR TOKEN|ID" },
    { "derive", cmd_derive, "derive KEY|DESCRIPTOR [--network NET] [--from 0] [--count 10] [--change] [--spk] [--descriptor]" },
    { "product", cmd_product, "product set PRODUCT --price SATS|\"N BTC\" [--wallet KEY] [--title T] [--suggested SATS|0] [--free-first N] [--free-per-address TIME|off] --secret FILE --redis ADDR" },
    { "product", cmd_product, "product list --redis ADDR [--secret FILE [--old-secret FILE]]" },
    { "product", cmd_product, "product show --redis ADDR [--secret FILE [--old-secret FILE]] PRODUCT" },
    { "product", cmd_product, "product rm --secret FILE --redis ADDR PRODUCT" },
    { "invoice", cmd_invoice, "invoice list --redis ADDR [--state new|seen|paid|underpaid|expired]" },
    { "invoice", cmd_invoice, "invoice show --redis ADDR [--secret FILE [--old-secret FILE]] [--watcher-key HEX] ID" },
    { "invoice", cmd_invoice, "invoice gap --redis ADDR [--wallet W] [--gap-limit N]" },
    { "wallet", cmd_wallet, "wallet show --redis ADDR [--secret FILE [--old-secret FILE]] [--format text|json] ID" },
    { "wallet", cmd_wallet, "wallet audit --redis ADDR --secret FILE [--old-secret FILE] [--watcher-key HEX] [--no-freeze] [--format text|json] ID" },
    { "wallet", cmd_wallet, "wallet freeze --redis ADDR --reason TEXT ID" },
    { "wallet", cmd_wallet, "wallet unfreeze --redis ADDR --secret FILE [--watcher-key HEX] [--force] ID" },
    { "wallet", cmd_wallet, "wallet repair --redis ADDR --secret FILE [--watcher-key HEX] ID" },
    { "sales", cmd_sales, "sales --redis ADDR --secret FILE [--old-secret FILE] --watcher-key HEX [--product P] [--wallet KEY] [--since DATE] [--format text|csv|json]" },
    { "seal", cmd_seal, "seal IN OUT --product P --host URL [--title T] [--chunk-size N] [--new-key] --secret FILE [--old-secret FILE] --redis ADDR" },
    { "open", cmd_open, "open FILE -o OUT [--token T | --wallet-secret CODE|@FILE | --key HEX] [--amount SATS] [--invoice ID --claim C] [--wait SECONDS] [--host URL]" },
    { "keygen", cmd_keygen, "keygen KEYFILE             write the watcher's key, print its public key" },
    { "watch", cmd_watch, "watch --rpc URL (--rpc-user U --rpc-password-file F | --rpc-cookie FILE) --redis ADDR --key KEYFILE --secret FILE [--old-key KEYFILE] [--old-secret FILE] [--network N] [--poll ms] [--lease ms]" },
};

static void
usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: bitcache COMMAND [ARGS]\n\ncommands:\n");
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %s\n", commands[i].synopsis);
    }
    fprintf(out, "\nADDR is host:port or unix:/path (options: --redis-user U, --redis-password P, --redis-db N,"
                 " --redis-prefix P)\n");
}

static int
vreport(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "bitcache %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return 0;
}

int
usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

int
run_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return 1;
}

int
main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "help") == 0)
    {
        usage(stdout);
        return 0;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "bitcache: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
