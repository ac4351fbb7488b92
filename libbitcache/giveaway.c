#include <string.h>

#include "bytes.h"
#include "giveaway.h"
#include "hex.h"
#include "hmac.h"
#include "invoice.h"
#include "token_record.h"

/* The count is read as digits only, at most 15 (exact in Lua's numbers;
 * INCR cannot fail on it): anything else was written by someone else, and
 * no copy is given on a number nobody can trust. The address is marked only when a copy is
 * left, and before the count is raised. */
const char bc_script_free_claim[] = BC_SCRIPT_FREE_CLAIM;

/* BC_SCRIPT_TOKEN_CREATE already refuses an id that exists: a copy's
 * record is never written over. */
const char bc_script_token_create_new[] = BC_SCRIPT_TOKEN_CREATE_NEW;

int
bc_free_address_hash(char out[33], const char *product, size_t product_len,
    const unsigned char *addr, size_t addr_len, const bc_keys *keys)
{
    static const char label[] = "free-address";
    unsigned char buf[sizeof(label) + 2 + BC_OFFER_FIELD_MAX + 64], mac[32];
    bc_writer w;

    if (product_len > BC_OFFER_FIELD_MAX || addr_len > 64) {
        return 0;
    }
    bc_writer_init(&w, buf, sizeof(buf));
    bc_put_bytes(&w, label, sizeof(label));         /* with its NUL */
    bc_put_lp(&w, product, product_len);
    bc_put_bytes(&w, addr, addr_len);
    if (w.overflow || !bc_hmac_sha256(mac, keys->invoice_hmac, w.p, w.len)) {
        return 0;
    }
    bc_hex_encode(out, mac, 16);
    out[32] = '\0';
    return 1;
}
