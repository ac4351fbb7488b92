/* bitcache watch: what the node says, asked over JSON-RPC: its height,
 * its block hashes (cached for the round), and whether it answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watch_log.h"
#include "watch_node.h"

void
node_failed(watcher *w, const char *what, const char *err)
{
    if (!w->node_down) {
        wlog("node: %s failed: %s; retrying every %ld ms", what, err, w->poll_ms);
    }
    w->node_down = 1;
}

void
node_ok(watcher *w)
{
    if (w->node_down) wlog("node: answering again");
    w->node_down = 0;
}

int
node_count(watcher *w, uint32_t *count)
{
    char err[256];
    json_t *r = rpc_call(w->rpc, "getblockcount", NULL, err, sizeof(err));

    if (r == NULL || !json_is_integer(r) || json_integer_value(r) < 0) {
        node_failed(w, "getblockcount", r ? "not a number" : err);
        json_decref(r);
        return 0;
    }
    *count = (uint32_t) json_integer_value(r);
    json_decref(r);
    node_ok(w);
    return 1;
}

/* the node's hash at height h, display hex; 0 on failure */
int
node_hash(watcher *w, uint32_t h, char out[65])
{
    char err[256];
    size_t len;
    char *s = rpc_call_str(w->rpc, "getblockhash", json_pack("[I]", (json_int_t) h), &len,
                           err, sizeof(err));

    if (s == NULL || len != 64 || strspn(s, "0123456789abcdef") != 64) {
        node_failed(w, "getblockhash", s ? "not a hash" : err);
        free(s);
        return 0;
    }
    memcpy(out, s, 65);
    free(s);
    return 1;
}

void
node_hash_put(watcher *w, uint32_t h, const char *hash)
{
    hash_slot *e = &w->hashes[h % WATCH_HASH_CACHE];

    e->height = h;
    e->round = w->round;
    memcpy(e->hash, hash, 65);
}

int
node_hash_at(watcher *w, uint32_t h, char out[65])
{
    hash_slot *e = &w->hashes[h % WATCH_HASH_CACHE];

    if (e->round != w->round || e->height != h) {
        if (!node_hash(w, h, out)) return 0;
        node_hash_put(w, h, out);
    }
    memcpy(out, e->hash, 65);
    return 1;
}
