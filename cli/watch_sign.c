/* bitcache watch: the attestations of a batch of verdicts, signed on
 * several threads, since signing is most of the work when a block pays
 * many invoices. */
#include <pthread.h>

#include "schnorr.h"
#include "watch_sign.h"

typedef struct {
    const bc_schnorr_signer *signer;
    watch_verdict *v;
    size_t                   n, first, step;
} sign_share;

static void *
sign_run(void *arg)
{
    sign_share *sh = arg;
    size_t i;

    for (i = sh->first; i < sh->n; i += sh->step) {
        if (sh->v[i].changed) {
            sh->v[i].signed_ok = bc_schnorr_signer_sign(sh->signer, sh->v[i].sig,
                                                        sh->v[i].msg);
        }
    }
    return NULL;
}

/* Signs the changed verdicts, spread over w->sign_threads threads (the
 * signer and the secp256k1 context are read-only, RAND_bytes is
 * thread-safe). */
void
sign_all(watcher *w, watch_verdict *v, size_t n)
{
    sign_share sh[8];
    pthread_t th[8];
    int started[8] = { 0 };
    size_t t, nt, changed = 0, i;

    for (i = 0; i < n; i++) changed += v[i].changed;
    nt = (size_t) w->sign_threads;
    if (nt > 8) nt = 8;
    if (changed < 32 || nt < 2) nt = 1;        /* a thread costs more than a few */
    for (t = 0; t < nt; t++) {
        sh[t].signer = &w->signer;
        sh[t].v = v;
        sh[t].n = n;
        sh[t].first = t;
        sh[t].step = nt;
    }
    for (t = 1; t < nt; t++) {
        started[t] = pthread_create(&th[t], NULL, sign_run, &sh[t]) == 0;
    }
    for (t = 0; t < nt; t++) {
        if (t == 0 || !started[t]) sign_run(&sh[t]);
    }
    for (t = 1; t < nt; t++) {
        if (started[t]) pthread_join(th[t], NULL);
    }
}
