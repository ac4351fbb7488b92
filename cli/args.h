/* Parsing of the CLI's option values, with errors that name the option. */
#ifndef BITCACHE_CLI_ARGS_H
#define BITCACHE_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* "90", "45s", "30m", "12h", "7d", "2w", or sums like "1h30m" -> seconds.
 * Returns 0 on anything else, or on zero. */
int parse_duration(uint64_t *out, const char *s);

/* A whole number in [0, max]. */
int parse_uint(uint64_t *out, const char *s, uint64_t max);

/* A password from a file (--rpc-password-file, --redis-password-file):
 * its first line, without the line end. Refused unless it is a regular
 * file that others cannot read. Returns a malloc'd string, or NULL with
 * the reason in err. */
char *read_password_file(const char *path, char *err, size_t errlen);

/* The environment variables the CLI takes secrets from, so that they need
 * not be on the command line (where /proc shows them). */
#define ENV_RPC_PASSWORD   "BITCACHE_RPC_PASSWORD"
#define ENV_REDIS_PASSWORD "BITCACHE_REDIS_PASSWORD"

#endif
