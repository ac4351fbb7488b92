/* Reading the selling flow's records for `bitcache product` and
 * `bitcache invoice`: key listing with SCAN (never KEYS, which stalls a
 * busy Redis), HGETALL replies as field/value lists, and printing values
 * that come from Redis without letting them break the output's lines. */
#ifndef BITCACHE_CLI_RECORDS_H
#define BITCACHE_CLI_RECORDS_H

#include <stddef.h>
#include <stdio.h>

#include <hiredis/hiredis.h>

#include "redis_conn.h"

/* The options of the product and invoice subcommands. */
typedef struct {
    redis_opts  ro;
    const char *secret;         /* --secret FILE */
    const char *old_secret;     /* --old-secret FILE: verifies only */
    const char *price;          /* --price */
    const char *wallet;         /* --wallet */
    const char *title;          /* --title */
    const char *state;          /* --state */
    const char *watcher_key;    /* --watcher-key */
    const char *gap_limit;      /* --gap-limit */
    const char *suggested;      /* --suggested */
    const char *free_first;     /* --free-first */
    const char *free_window;    /* --free-per-address */
} record_opts;

/* Parses argv (argv[0] is the subcommand) with getopt_long, accepting the
 * Redis options and those whose letters are in allowed: s secret, p price,
 * w wallet, t title, S state, k watcher-key, g gap-limit, u suggested,
 * f free-first, F free-per-address, O old-secret (only with --secret).
 * Requires --redis and the
 * options whose letters are in required, and exactly npos positional
 * arguments (left at argv[optind]). Returns 0, or EXIT_USAGE after
 * printing what is wrong (cmd names the command, usage ends the message). */
int record_opts_parse(record_opts *o, int argc, char **argv, const char *cmd,
    const char *usage, const char *allowed, const char *required, int npos,
    const char *pos_name);

/* The checks that end record_opts_parse, for a command that parses its
 * own options: --redis given, a prefix of at most 128 bytes, exactly npos
 * positional arguments left at argv[optind]. 0, or EXIT_USAGE after
 * printing what is wrong. */
int record_args_check(const redis_opts *ro, int argc, char **argv, const char *cmd,
    const char *usage, int npos, const char *pos_name);

/* One of a command's subcommands ("product set", ...). */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);      /* argv[0] is the subcommand */
    const char *usage;
} subcommand;

/* Runs the subcommand named by argv[1], or prints the usage of all. */
int run_subcommand(const char *cmd, const subcommand *subs, size_t nsubs, int argc,
    char **argv);

/* The keys named prefix + kind + anything (kind "prod:", "inv:", "idx:"),
 * sorted. Returns how many, with *keys a malloc'd array of malloc'd
 * strings (free_keys), or -1 after printing why. */
long scan_keys(redisContext *c, const char *cmd, const char *prefix, const char *kind,
    char ***keys);
void free_keys(char **keys, long n);

/* HGETALL key: the reply (free with freeReplyObject) with kv/kvlen pointing
 * at its field/value strings (at most max of them) and *n their count; NULL
 * after printing why (also for a key that is not a hash). */
redisReply *hgetall(redisContext *c, const char *cmd, const char *key, const char **kv,
    size_t *kvlen, size_t max, size_t *n);

/* The value of field name in a field/value list, or NULL. */
const char *kv_get(const char *const *kv, const size_t *kvlen, size_t n, const char *name,
    size_t *len);

/* Writes s[0..len) with control characters (tabs, newlines, ESC) as '?',
 * so that one record stays on one line. */
void print_clean(FILE *out, const char *s, size_t len);

/* Writes s[0..len) to stdout as a JSON string, quotes included (empty
 * when out of memory). */
void print_json_str(const char *s, size_t len);

/* Prints the record of the token with id tid (tok:<id>, parsed by
 * bc_tokrec_parse): downloads allowed, revoked, bytes drawn per file.
 * Returns 0, or 1 after printing why it could not. */
int print_token_record(redisContext *c, const char *cmd, const char *prefix,
    const unsigned char tid[16]);

/* "2026-11-25T12:00:00Z" */
void format_time(char out[32], unsigned long long t);

#endif
