/* bitcache watch: attestations signed (BIP340, the watcher's key). */
#ifndef BITCACHE_CLI_WATCH_SIGN_H
#define BITCACHE_CLI_WATCH_SIGN_H

#include <stddef.h>

#include "watch_verdict.h"
#include "watcher.h"

/* Signs the msg of each changed verdict of v[0..n) into its sig (signed_ok
 * says if it worked), on up to w->sign_threads threads. */
void sign_all(watcher *w, watch_verdict *v, size_t n);

#endif
