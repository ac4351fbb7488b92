/* the wallet routes (docs/wallet.md) */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_bitcache_wallet.h"
