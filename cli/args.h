/* Parsing of the CLI's option values, with errors that name the option. */
#ifndef BITCACHE_CLI_ARGS_H
#define BITCACHE_CLI_ARGS_H

#include <stdint.h>

/* "90", "45s", "30m", "12h", "7d", "2w", or sums like "1h30m" -> seconds.
 * Returns 0 on anything else, or on zero. */
int parse_duration(uint64_t *out, const char *s);

/* A whole number in [0, max]. */
int parse_uint(uint64_t *out, const char *s, uint64_t max);

#endif
