/* bitcache watch: fetching blocks. A block comes as raw hex (getblockhash,
 * getblock <hash> false) and is parsed here into the outputs to look up.
 * While catching up, a thread with its own node connection fetches the
 * next blocks while the main loop matches and settles the current one, so
 * that the node's time to serialize a block (30 ms for 2,000 transactions
 * on bcoin) is off the path. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "tx.h"
#include "watch_fetch.h"
#include "watch_log.h"

#define FETCH_AHEAD 3           /* parsed blocks waiting at most */

struct fetcher {
    watcher         *w;
    pthread_t        thread;
    pthread_mutex_t  mu;
    pthread_cond_t   cv;
    uint32_t         next, last;
    fetched_block    ring[FETCH_AHEAD];
    size_t           head, count;
    int              stop;
};

static int
failed(fetched_block *b, int node, const char *what, const char *err)
{
    b->ok = 0;
    b->node_error = node;
    b->what = what;
    snprintf(b->err, sizeof(b->err), "%s", err);
    return 0;
}

int
fetch_block(const watcher *w, rpc_client *rpc, uint32_t h, const char *hash,
    fetched_block *b)
{
    char err[256];
    unsigned char *raw;
    size_t len;
    char *s;
    double t0 = watch_now_ms();
    bc_block blk;
    bc_tx tx;
    int t;

    memset(b, 0, sizeof(*b));
    b->height = h;
    if (hash) {
        memcpy(b->hash, hash, 65);
    } else {
        s = rpc_call_str(rpc, "getblockhash", json_pack("[I]", (json_int_t) h), &len, err,
                         sizeof(err));
        if (s == NULL || len != 64) {
            free(s);
            return failed(b, 1, "getblockhash", s ? "not a hash" : err);
        }
        memcpy(b->hash, s, 65);
        free(s);
    }
    raw = rpc_call_hex(rpc, "getblock", json_pack("[sb]", b->hash, 0), &len, err, sizeof(err));
    if (raw == NULL) {
        return failed(b, 1, "getblock", err);
    }
    b->fetch_ms = watch_now_ms() - t0;
    if (!bc_block_parse(&blk, raw, len)) {
        free(raw);
        return failed(b, 0, "getblock", "not a block in hex");
    }
    bc_hash_to_hex(b->prev, blk.prev);
    while ((t = bc_block_next_tx(&blk, &tx)) == 1) {
        if (!outs_add_tx(w, &b->outs, &tx)) {
            free(raw);
            return failed(b, 0, "getblock", "out of memory");
        }
    }
    b->ntx = blk.ntx;
    free(raw);
    if (t < 0) {
        snprintf(err, sizeof(err), "malformed transaction %llu", (unsigned long long) blk.done);
        return failed(b, 0, "getblock", err);
    }
    b->ok = 1;
    return 1;
}

void
fetched_block_free(fetched_block *b)
{
    free(b->outs.v);
    b->outs.v = NULL;
    b->outs.n = b->outs.cap = 0;
}

static void *
fetch_run(void *arg)
{
    fetcher *f = arg;
    fetched_block b;
    uint32_t h;
    int ok = 1;

    for (h = f->next; ok && h <= f->last; h++) {
        ok = fetch_block(f->w, f->w->fetch_rpc, h, NULL, &b);
        pthread_mutex_lock(&f->mu);
        while (f->count == FETCH_AHEAD && !f->stop) {
            pthread_cond_wait(&f->cv, &f->mu);
        }
        if (f->stop) {
            pthread_mutex_unlock(&f->mu);
            fetched_block_free(&b);
            break;
        }
        f->ring[(f->head + f->count) % FETCH_AHEAD] = b;
        f->count++;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
    return NULL;
}

fetcher *
fetcher_start(watcher *w, uint32_t from, uint32_t to)
{
    fetcher *f;

    if (w->fetch_rpc == NULL && (w->fetch_rpc = rpc_clone(w->rpc)) == NULL) {
        return NULL;
    }
    if ((f = calloc(1, sizeof(*f))) == NULL) {
        return NULL;
    }
    f->w = w;
    f->next = from;
    f->last = to;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    if (pthread_create(&f->thread, NULL, fetch_run, f) != 0) {
        pthread_mutex_destroy(&f->mu);
        pthread_cond_destroy(&f->cv);
        free(f);
        return NULL;
    }
    return f;
}

void
fetcher_next(fetcher *f, fetched_block *b)
{
    pthread_mutex_lock(&f->mu);
    while (f->count == 0) {
        pthread_cond_wait(&f->cv, &f->mu);
    }
    *b = f->ring[f->head];
    f->head = (f->head + 1) % FETCH_AHEAD;
    f->count--;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

void
fetcher_stop(fetcher *f)
{
    if (f == NULL) {
        return;
    }
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    while (f->count > 0) {
        fetched_block_free(&f->ring[f->head]);
        f->head = (f->head + 1) % FETCH_AHEAD;
        f->count--;
    }
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
}
