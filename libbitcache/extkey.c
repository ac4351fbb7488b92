/* Written from BIP32 ("Serialization format", "Public parent key ->
 * public child key") and SLIP-132's version table. */
#include <stdio.h>
#include <string.h>

#include "base58.h"
#include "extkey.h"
#include "hash.h"
#include "secp_context.h"
#include "tweak_table.h"

static const bc_extkey_version versions[] = {
    { "xpub", 0x0488b21e, 0x0488ade4, BC_P2PKH, 0 },
    { "ypub", 0x049d7cb2, 0x049d7878, BC_P2SH_P2WPKH, 0 },
    { "zpub", 0x04b24746, 0x04b2430c, BC_P2WPKH, 0 },
    { "tpub", 0x043587cf, 0x04358394, BC_P2PKH, 1 },
    { "upub", 0x044a5262, 0x044a4e28, BC_P2SH_P2WPKH, 1 },
    { "vpub", 0x045f1cf6, 0x045f18bc, BC_P2WPKH, 1 },
};

#define NVERSIONS (sizeof(versions) / sizeof(versions[0]))

/* SLIP-132 multisig versions (Ypub, Zpub, Upub, Vpub and their private
 * counterparts): recognised only to say why they are refused. */
static const struct {
    uint32_t version;
    const char *name;
    int private;
} multisig_versions[] = {
    { 0x0295b43f, "Ypub", 0 }, { 0x0295b005, "Yprv", 1 },
    { 0x02aa7ed3, "Zpub", 0 }, { 0x02aa7a99, "Zprv", 1 },
    { 0x024289ef, "Upub", 0 }, { 0x024285b5, "Uprv", 1 },
    { 0x02575483, "Vpub", 0 }, { 0x02575048, "Vprv", 1 },
};

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void
put_be32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

const bc_extkey_version *
bc_extkey_version_named(const char *name)
{
    size_t i;

    for (i = 0; i < NVERSIONS; i++) {
        if (strcmp(versions[i].pub, name) == 0) {
            return &versions[i];
        }
    }
    return NULL;
}

/* Looks like a private key from its text alone, so that even a mistyped one
 * (bad checksum) is answered as what it is: "?prv" prefixes, WIF shapes. */
static int
private_looking(const char *str, const char **err)
{
    static const char base58_chars[] =
        "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    static char msg[160];
    size_t len;

    /* xprv yprv zprv tprv uprv vprv and the multisig Yprv Zprv Uprv Vprv */
    if (strlen(str) >= 4 && strchr("xyztuvYZUV", str[0]) != NULL && strncmp(str + 1, "prv", 3) == 0) {
        snprintf(msg, sizeof(msg), "%.4s... is an extended private key: "
                 BC_NEVER_PRIVATE "; give the account's extended public key", str);
        *err = msg;
        return 1;
    }
    /* WIF, even mistyped: 51 characters from '5' (mainnet, uncompressed) or
     * '9' (test networks), 52 from 'K', 'L' or 'c' (compressed) */
    len = strlen(str);
    if (len == strspn(str, base58_chars)
        && ((len == 51 && (str[0] == '5' || str[0] == '9'))
            || (len == 52 && (str[0] == 'K' || str[0] == 'L' || str[0] == 'c'))))
    {
        *err = "this looks like a WIF private key: " BC_NEVER_PRIVATE
               "; give the account's extended public key";
        return 1;
    }
    return 0;
}

static int
refuse_decoded(const unsigned char *raw, size_t n, const char **err)
{
    static char msg[200];
    uint32_t v = n >= 4 ? be32(raw) : 0;
    size_t i;

    /* WIF: 0x80 (mainnet) or 0xef (test networks), 32 bytes, optional 0x01 */
    if ((n == 33 || (n == 34 && raw[33] == 0x01)) && (raw[0] == 0x80 || raw[0] == 0xef)) {
        *err = "this is a WIF private key: " BC_NEVER_PRIVATE
               "; give the account's extended public key";
        return 1;
    }
    if (n == 21) {
        *err = "this is an address, not an extended public key";
        return 1;
    }
    if (n != BC_EXTKEY_LEN) {
        snprintf(msg, sizeof(msg), "extended key must be %d bytes, this one is %zu",
                 BC_EXTKEY_LEN, n);
        *err = msg;
        return 1;
    }
    for (i = 0; i < NVERSIONS; i++) {
        if (v == versions[i].prv_version) {
            snprintf(msg, sizeof(msg), "version bytes 0x%08x are %.1sprv, an extended private "
                     "key: " BC_NEVER_PRIVATE "; give the account's %s", v,
                     versions[i].pub, versions[i].pub);
            *err = msg;
            return 1;
        }
    }
    for (i = 0; i < sizeof(multisig_versions) / sizeof(multisig_versions[0]); i++) {
        if (v == multisig_versions[i].version) {
            snprintf(msg, sizeof(msg), "%s (version 0x%08x) is a multisig key%s",
                     multisig_versions[i].name, v, multisig_versions[i].private
                     ? ": " BC_NEVER_PRIVATE : "; Bitcache pays to single-key addresses");
            *err = msg;
            return 1;
        }
    }
    return 0;
}

int
bc_key_is_private(const char *str, const char **err)
{
    unsigned char raw[BC_BASE58_MAX_CHARS];
    size_t n = sizeof(raw);
    const char *ignored;

    if (private_looking(str, err)) {
        return 1;
    }
    if (!bc_base58check_decode(raw, &n, str, strlen(str), &ignored)) {
        return 0;
    }
    return refuse_decoded(raw, n, err) && strstr(*err, BC_NEVER_PRIVATE) != NULL;
}

int
bc_extpub_parse(bc_extpub *key, const char *str, const char **err)
{
    static char msg[160];
    const secp256k1_context *ctx = bc_secp_context();
    unsigned char raw[BC_BASE58_MAX_CHARS];
    size_t n = sizeof(raw), i;
    uint32_t v;

    if (private_looking(str, err)) {
        return 0;
    }
    if (!bc_base58check_decode(raw, &n, str, strlen(str), err)) {
        return 0;
    }
    if (refuse_decoded(raw, n, err)) {
        return 0;
    }
    v = be32(raw);
    key->version = NULL;
    for (i = 0; i < NVERSIONS; i++) {
        if (v == versions[i].pub_version) {
            key->version = &versions[i];
        }
    }
    if (key->version == NULL) {
        snprintf(msg, sizeof(msg), "unknown extended key version bytes 0x%08x "
                 "(expected xpub, ypub, zpub, tpub, upub or vpub)", v);
        *err = msg;
        return 0;
    }
    key->depth = raw[4];
    memcpy(key->parent_fingerprint, raw + 5, 4);
    key->child_number = be32(raw + 9);
    memcpy(key->chain_code, raw + 13, 32);
    if (key->depth == 0 && be32(key->parent_fingerprint) != 0) {
        *err = "extended key of depth 0 with a non-zero parent fingerprint";
        return 0;
    }
    if (key->depth == 0 && key->child_number != 0) {
        *err = "extended key of depth 0 with a non-zero child index";
        return 0;
    }
    if (raw[45] == 0x00) {
        *err = "key data is a private key (0x00 prefix) under public version bytes: "
               BC_NEVER_PRIVATE;
        return 0;
    }
    if (raw[45] != 0x02 && raw[45] != 0x03) {
        snprintf(msg, sizeof(msg), "invalid public key prefix 0x%02x (must be 02 or 03)",
                 raw[45]);
        *err = msg;
        return 0;
    }
    if (ctx == NULL) {
        *err = "libsecp256k1 context unavailable";
        return 0;
    }
    if (!secp256k1_ec_pubkey_parse(ctx, &key->pubkey, raw + 45, 33)) {
        *err = "invalid public key: not a point on secp256k1";
        return 0;
    }
    return 1;
}

int
bc_extpub_serialize(char *out, size_t outlen, const bc_extpub *key,
                    const bc_extkey_version *as_version)
{
    const secp256k1_context *ctx = bc_secp_context();
    unsigned char raw[BC_EXTKEY_LEN];
    size_t publen = 33;

    if (ctx == NULL) {
        return 0;
    }
    put_be32(raw, (as_version ? as_version : key->version)->pub_version);
    raw[4] = key->depth;
    memcpy(raw + 5, key->parent_fingerprint, 4);
    put_be32(raw + 9, key->child_number);
    memcpy(raw + 13, key->chain_code, 32);
    if (!secp256k1_ec_pubkey_serialize(ctx, raw + 45, &publen, &key->pubkey,
                                       SECP256K1_EC_COMPRESSED))
    {
        return 0;
    }
    return bc_base58check_encode(out, outlen, raw, sizeof(raw));
}

/* I = HMAC-SHA512(c, serP(K) || ser32(i)); K_i = K + I_L*G; c_i = I_R */
static int
ckd_pub(secp256k1_pubkey *child, unsigned char child_chain[32], const bc_extpub *parent,
        uint32_t index)
{
    const secp256k1_context *ctx = bc_secp_context();
    unsigned char data[37], I[64];
    size_t publen = 33;

    if (ctx == NULL || (index & BC_HARDENED)
        || !secp256k1_ec_pubkey_serialize(ctx, data, &publen, &parent->pubkey,
                                          SECP256K1_EC_COMPRESSED))
    {
        return 0;
    }
    put_be32(data + 33, index);
    if (!bc_hmac_sha512(I, parent->chain_code, 32, data, sizeof(data))) {
        return 0;
    }
    /* fails when I_L >= n or the sum is the point at infinity: BIP32 says
     * that index is invalid and the next one is used */
    if (!bc_pubkey_tweak_add(child, &parent->pubkey, I)) {
        return 0;
    }
    if (child_chain != NULL) {
        memcpy(child_chain, I + 32, 32);
    }
    return 1;
}

int
bc_extpub_derive_pubkey(secp256k1_pubkey *child, const bc_extpub *parent, uint32_t index)
{
    return ckd_pub(child, NULL, parent, index);
}

int
bc_extpub_derive(bc_extpub *child, const bc_extpub *parent, uint32_t index, const char **err)
{
    bc_extpub out;

    if (index & BC_HARDENED) {
        *err = "hardened derivation needs the private key; give the extended public key "
               "of the hardened level instead";
        return 0;
    }
    if (parent->depth == 255) {
        *err = "extended key already at depth 255";
        return 0;
    }
    if (!ckd_pub(&out.pubkey, out.chain_code, parent, index)) {
        *err = "child key invalid at this index (BIP32: use the next index)";
        return 0;
    }
    if (!bc_extpub_fingerprint(out.parent_fingerprint, parent)) {
        *err = "hash unavailable";
        return 0;
    }
    out.version = parent->version;
    out.depth = parent->depth + 1;
    out.child_number = index;
    *child = out;
    return 1;
}

int
bc_extpub_fingerprint(unsigned char fp[4], const bc_extpub *key)
{
    const secp256k1_context *ctx = bc_secp_context();
    unsigned char ser[33], h[20];
    size_t len = sizeof(ser);

    if (ctx == NULL
        || !secp256k1_ec_pubkey_serialize(ctx, ser, &len, &key->pubkey,
                                          SECP256K1_EC_COMPRESSED)
        || !bc_hash160(h, ser, len))
    {
        return 0;
    }
    memcpy(fp, h, 4);
    return 1;
}
