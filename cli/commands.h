/* The `bitcache` subcommands. Each returns the process exit status:
 * 0 success, 1 failure at run time, 2 bad arguments. */
#ifndef BITCACHE_CLI_COMMANDS_H
#define BITCACHE_CLI_COMMANDS_H

#define EXIT_USAGE 2

int cmd_secret(int argc, char **argv);
int cmd_grant(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_derive(int argc, char **argv);
int cmd_product(int argc, char **argv);
int cmd_invoice(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_wallet(int argc, char **argv);
int cmd_sales(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_open(int argc, char **argv);

/* Prints "bitcache CMD: MESSAGE" to stderr and returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "bitcache CMD: MESSAGE" to stderr and returns 1. */
int run_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
