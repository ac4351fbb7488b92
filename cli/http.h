/* The CLI's HTTP client for a Bitcache host's API (`bitcache open`):
 * libcurl, as the node's JSON-RPC (rpc.c) uses, so that TLS (the system's
 * CA store, SNI, the host name checked, TLS 1.2 or later), IPv6, chunked
 * answers and timeouts are curl's tested code, not a second HTTP stack.
 * Blocking: each request is bounded by its timeout, never hangs. No
 * redirect is followed, and only http:// and https:// are spoken. */
#ifndef BITCACHE_CLI_HTTP_H
#define BITCACHE_CLI_HTTP_H

#include <stddef.h>

#define HTTP_BODY_MAX   (1u << 20)      /* a host's JSON answer */

/* A growing buffer that a curl write callback fills up to max bytes
 * (overflow set beyond), always NUL-terminated. Shared with rpc.c. */
typedef struct {
    char   *p;
    size_t  len, cap, max;
    int     overflow;
} http_buf;

/* A CURLOPT_WRITEFUNCTION for an http_buf given as CURLOPT_WRITEDATA. */
size_t http_buf_write(char *p, size_t size, size_t n, void *arg);

typedef struct {
    long        status;         /* 0: no answer (err says why) */
    long        retry_after;    /* seconds of a Retry-After, or -1 */
    char       *body;           /* NUL-terminated, malloc'd; http_free */
    size_t      len;
} http_answer;

/* method "GET" or "POST" (with json as the body, Content-Type JSON);
 * headers: NULL-terminated "Name: value" lines, or NULL. Returns 1 with an
 * answer of any status, or 0 with the reason in err ("cannot connect to
 * HOST: ...", "TLS with HOST failed: ...", "HOST did not answer within N
 * s"); err never holds the URL's query nor a header's value. */
int http_request(const char *method, const char *url, const char *json,
    const char *const *headers, long timeout_ms, http_answer *a,
    char *err, size_t errlen);
void http_free(http_answer *a);

#endif
