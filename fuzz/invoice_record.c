/* Invoice records (inv:<id>, sold:<id>) as HGETALL gives them back, every
 * byte a Redis writer's: the status endpoint, the watcher, `bitcache
 * invoice show` and `bitcache sales` all read them with
 * bc_invoice_record_parse. The input's NUL bytes separate the strings.
 * No crash, no read outside them; a record that parses is of version 2
 * or 3, its strings lie inside the input, a version 2 record's list is its
 * amount; what the module's writer makes of it parses back to the same
 * fields and MAC; the checks that mint a token run to a verdict, and the
 * MAC verifies only when it is the one computed over the fields. */
#include "fuzz.h"

#include "invoice_record.h"
#include "schnorr.h"

#define MAX_STRINGS 80

static int
inside(const void *p, size_t len, const char *buf, size_t size)
{
    return len == 0 || ((const char *) p >= buf && (const char *) p + len <= buf + size);
}

static int
same(const bc_invoice *a, const bc_invoice *b)
{
    return a->version == b->version && a->network == b->network && a->index == b->index
           && a->amount == b->amount && a->list == b->list
           && a->confirmations == b->confirmations && a->created == b->created
           && a->expires == b->expires && a->token_ttl == b->token_ttl
           && a->max_downloads == b->max_downloads
           && a->product_len == b->product_len && memcmp(a->product, b->product, a->product_len) == 0
           && a->wallet_len == b->wallet_len && memcmp(a->wallet, b->wallet, a->wallet_len) == 0
           && a->address_len == b->address_len && memcmp(a->address, b->address, a->address_len) == 0
           && a->title_len == b->title_len && memcmp(a->title, b->title, a->title_len) == 0
           && a->spk_len == b->spk_len && memcmp(a->spk, b->spk, a->spk_len) == 0
           && memcmp(a->claim_hash, b->claim_hash, 32) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char id[BC_INVOICE_ID_LEN] = {    /* the vectors' */
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
    };
    static unsigned char xonly[32];
    static bc_keys keys;
    const char *kv[MAX_STRINGS];
    size_t kvlen[MAX_STRINGS], n, i;
    char err[128], why[BC_INVOICE_WHY_MAX], *copy;
    unsigned char mac[32];
    bc_invoice_record rec, back;
    bc_invoice_argv *a;
    bc_invoice_check_result res;
    int mac_ok;

    if (keys.invoice_hmac == NULL) {
        unsigned char secret[32], seckey[32];

        for (i = 0; i < 32; i++) {
            secret[i] = (unsigned char) i;
            seckey[i] = (unsigned char) (0x42 + i);
        }
        FUZZ_ASSERT(bc_keys_derive(&keys, secret, sizeof(secret)));
        FUZZ_ASSERT(bc_xonly_from_seckey(xonly, seckey));
    }
    if (size > 8192 || (copy = malloc(size ? size : 1)) == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    n = fuzz_split_kv(copy, size, kv, kvlen, MAX_STRINGS);

    if (!bc_invoice_record_parse(&rec, id, kv, kvlen, n, err, sizeof(err))) {
        FUZZ_ASSERT(strlen(err) < sizeof(err) && err[0] != '\0');
        free(copy);
        return 0;
    }
    FUZZ_ASSERT(rec.inv.version == 2 || rec.inv.version == 3);
    if (rec.inv.version == 2) {
        FUZZ_ASSERT(rec.inv.list == rec.inv.amount);
    }
    FUZZ_ASSERT(memcmp(rec.inv.id, id, sizeof(id)) == 0);
    FUZZ_ASSERT(inside(rec.inv.product, rec.inv.product_len, copy, size)
                && inside(rec.inv.wallet, rec.inv.wallet_len, copy, size)
                && inside(rec.inv.address, rec.inv.address_len, copy, size)
                && inside(rec.inv.title, rec.inv.title_len, copy, size));
    FUZZ_ASSERT(rec.inv.product_len <= BC_OFFER_FIELD_MAX && rec.inv.title_len <= BC_OFFER_FIELD_MAX
                && rec.inv.wallet_len <= BC_OFFER_FIELD_MAX
                && rec.inv.address_len <= BC_OFFER_FIELD_MAX);
    FUZZ_ASSERT(rec.inv.spk == rec.spk && rec.inv.spk_len >= 1 && rec.inv.spk_len <= BC_SPK_MAX);
    FUZZ_ASSERT(rec.inv.network <= 3 && (unsigned) rec.state <= BC_STATE_EXPIRED);

    /* the verdict: only a MAC computed over these fields passes it */
    mac_ok = bc_invoice_record_mac_ok(&rec, &keys);
    FUZZ_ASSERT(bc_invoice_mac(mac, &rec.inv, &keys));
    FUZZ_ASSERT(mac_ok == (memcmp(mac, rec.mac, 32) == 0));
    res = bc_invoice_check(&rec, &keys, xonly, why, sizeof(why));
    FUZZ_ASSERT(strlen(why) > 0 && strlen(why) < sizeof(why));
    FUZZ_ASSERT(mac_ok || res == BC_INVOICE_BAD_MAC);
    if (res == BC_INVOICE_SETTLED) {
        FUZZ_ASSERT(rec.state == BC_STATE_PAID && rec.received >= rec.inv.amount
                    && rec.conf >= rec.inv.confirmations);
    }

    /* written back as the module would write it: the same record */
    a = malloc(sizeof(*a));
    if (a != NULL) {
        FUZZ_ASSERT(bc_invoice_record_argv(a, &rec.inv, rec.mac));
        FUZZ_ASSERT(a->n == 2 * (rec.inv.version == 3 ? 18u : 17u));
        FUZZ_ASSERT(bc_invoice_record_parse(&back, id, a->argv, a->argvlen, a->n, err, sizeof(err)));
        FUZZ_ASSERT(same(&rec.inv, &back.inv) && memcmp(back.mac, rec.mac, 32) == 0
                    && back.state == BC_STATE_NEW);
        FUZZ_ASSERT(bc_invoice_record_mac_ok(&back, &keys) == mac_ok);
        free(a);
    }
    free(copy);
    return 0;
}
