/* Dates as an operator types them (`bitcache sales --since`). */
#ifndef BITCACHE_DATE_H
#define BITCACHE_DATE_H

#include <stddef.h>
#include <stdint.h>

/* s[0..len) as unix seconds: "YYYY-MM-DD" (midnight UTC, years 1970 to
 * 9999, a day that exists) or a decimal number of seconds (at most 10^12,
 * no sign, no leading zero but "0"). Returns 1 and *t, or 0. */
int bc_date_parse(uint64_t *t, const char *s, size_t len);

#endif
