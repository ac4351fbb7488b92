/* A bitcoin node's JSON-RPC (Bitcoin Core's dialect, which bcoin and others
 * answer too) over libcurl, with jansson for the JSON. One keep-alive
 * connection, reused for every call; blocking, which is right for the
 * watcher's loops. */
#ifndef BITCACHE_CLI_RPC_H
#define BITCACHE_CLI_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "prom.h"

typedef struct rpc_client rpc_client;

/* Calls, failures and their latency, shared by a client and its clones
 * (the watcher's fetcher thread): counted with atomics. */
typedef struct {
    uint64_t      calls;
    uint64_t      errors;
    bc_prom_hist  latency;
} rpc_stats;

/* url: http://host:port/; either user and password, or cookie_file (Bitcoin
 * Core's .cookie, "user:password", re-read after a 401 since Core writes a
 * new one on each start). timeout_ms bounds each call. NULL if out of
 * memory or libcurl cannot start. */
rpc_client *rpc_new(const char *url, const char *user, const char *password,
    const char *cookie_file, long timeout_ms);
/* Another connection to the same node with the same credentials (for a
 * thread: one client must not be used by two at once). */
rpc_client *rpc_clone(const rpc_client *c);
void rpc_free(rpc_client *c);
/* Counts every later call of c (and of its later clones) into st. */
void rpc_set_stats(rpc_client *c, rpc_stats *st);

/* Calls method with params (a JSON array, taken over; NULL: none). Returns
 * the "result" (a new reference, never NULL on success; JSON null is
 * returned as json_null()), or NULL with the reason in err: the transport
 * ("cannot connect to ..."), the HTTP status, or the node's error message.
 * The reason never contains the credentials. */
json_t *rpc_call(rpc_client *c, const char *method, json_t *params, char *err, size_t errlen);

/* The same, for a call whose result is a string (hex blocks and
 * transactions, hashes): returns a malloc'd copy and its length. */
char *rpc_call_str(rpc_client *c, const char *method, json_t *params, size_t *len,
    char *err, size_t errlen);

/* The same, for a call whose result is a hex string (raw blocks and
 * transactions): returns the bytes, malloc'd, and their number. */
unsigned char *rpc_call_hex(rpc_client *c, const char *method, json_t *params, size_t *len,
    char *err, size_t errlen);

#endif
