/* A rotation of the secret (docs/operations.md, "Rotating the secret"):
 * with keys.old set, every MAC check accepts what the old secret made and
 * what the new one makes; without it, only the new one's. Nothing signs
 * with the old keys. And the watcher key: an attestation verifies under
 * the old key only when it is listed. */
#include <stdio.h>
#include <string.h>

#include "invoice.h"
#include "invoice_record.h"
#include "network.h"
#include "schnorr.h"
#include "sealkey.h"
#include "secret.h"
#include "tap.h"
#include "token.h"
#include "wallet_record.h"

static bc_keys cur, old, same, rot;

static void
derive(bc_keys *k, unsigned char fill)
{
    unsigned char s[32];

    memset(s, fill, sizeof(s));
    bc_keys_derive(k, s, sizeof(s));
}

static void
tokens(void)
{
    unsigned char buf[BC_TOKEN_MAX_BYTES];
    char made_old[BC_TOKEN_MAX_CHARS + 1], made_new[BC_TOKEN_MAX_CHARS + 1];
    size_t lo, ln;
    bc_token t, p;

    memset(&t, 0, sizeof(t));
    memset(t.id, 7, sizeof(t.id));
    t.expires = 2000;
    t.uses = 3;
    t.product = (const unsigned char *) "/f/a.pdf";
    t.product_len = 8;
    lo = bc_token_encode(made_old, &t, &old);
    ln = bc_token_encode(made_new, &t, &rot);

    ok(strcmp(made_new, made_old) != 0, "rotated keys sign tokens with the new secret");
    ok(bc_token_verify(&p, buf, made_new, ln, &cur, 1000, t.product, 8) == BC_TOKEN_OK,
       "a token made while rotating verifies under the new secret alone");
    ok(bc_token_verify(&p, buf, made_old, lo, &rot, 1000, t.product, 8) == BC_TOKEN_OK,
       "an old token verifies while rotating");
    ok(bc_token_verify(&p, buf, made_old, lo, &cur, 1000, t.product, 8) == BC_TOKEN_BAD_MAC,
       "an old token: bad MAC once the old secret is dropped");
    ok(bc_token_verify(&p, buf, made_old, lo, &rot, 3000, t.product, 8) == BC_TOKEN_EXPIRED,
       "an old token's expiry still counts");
    ok(bc_token_verify(&p, buf, made_old, lo, &rot, 1000, (const unsigned char *) "/f/b", 4)
       == BC_TOKEN_WRONG_PRODUCT, "an old token's product still counts");
}

static void
offers(void)
{
    unsigned char buf[BC_OFFER_MAX_BYTES];
    char so[BC_OFFER_MAX_CHARS + 1], sn[BC_OFFER_MAX_CHARS + 1];
    size_t lo, ln;
    bc_offer o, d;

    memset(&o, 0, sizeof(o));
    o.issued = 1000;
    o.price = 5000;
    o.invoice_ttl = 900;
    o.token_ttl = 86400;
    o.wallet = "tpubX";
    o.wallet_len = 5;
    o.product = "/f/a.pdf";
    o.product_len = 8;
    lo = bc_offer_encode(so, &o, &old);
    ln = bc_offer_encode(sn, &o, &rot);

    ok(bc_offer_decode(&d, buf, so, lo, &rot, 1100) == BC_OFFER_OK
       && d.price == 5000, "an old page's offer is taken while rotating");
    ok(bc_offer_decode(&d, buf, so, lo, &cur, 1100) == BC_OFFER_BAD_MAC,
       "and refused once the old secret is dropped");
    ok(bc_offer_decode(&d, buf, sn, ln, &cur, 1100) == BC_OFFER_OK,
       "a new offer is signed with the new secret");
}

static void
invoices(void)
{
    unsigned char seckey_old[32], seckey_new[32], wk_old[32], wk_new[32], msg[32];
    char why[BC_INVOICE_WHY_MAX];
    unsigned char tid_old[16], tid_new[16];
    bc_invoice_record rec;

    memset(&rec, 0, sizeof(rec));
    rec.inv.version = 3;
    memset(rec.inv.id, 9, 16);
    rec.inv.network = 3;
    rec.inv.amount = rec.inv.list = 5000;
    rec.inv.confirmations = 1;
    rec.inv.created = 1000;
    rec.inv.expires = 1900;
    rec.inv.token_ttl = 86400;
    rec.inv.product = "/f/a.pdf";
    rec.inv.product_len = 8;
    rec.inv.wallet = "tpubX";
    rec.inv.wallet_len = 5;
    rec.inv.address = "bcrt1q";
    rec.inv.address_len = 6;
    memset(rec.spk, 0x51, 22);
    rec.inv.spk = rec.spk;
    rec.inv.spk_len = 22;
    ok(bc_invoice_mac(rec.mac, &rec.inv, &old), "an invoice made under the old secret");

    ok(bc_invoice_record_mac_ok(&rec, &rot), "its MAC verifies while rotating");
    ok(!bc_invoice_record_mac_ok(&rec, &cur), "not after the old secret is dropped");
    ok(bc_invoice_record_keys(&rec, &rot) == &old, "it was made under the old secret");

    /* the token id: the invoice's own secret's, the same as before */
    bc_invoice_token_id(tid_old, rec.inv.id, &old);
    bc_invoice_token_id(tid_new, rec.inv.id, bc_invoice_record_keys(&rec, &rot));
    ok(memcmp(tid_old, tid_new, 16) == 0, "its token id stays the same across the rotation");

    ok(bc_invoice_mac(rec.mac, &rec.inv, &rot), "made again while rotating");
    ok(bc_invoice_record_keys(&rec, &rot) == &rot, "under the new secret");
    ok(bc_invoice_record_mac_ok(&rec, &cur), "verifies under the new secret alone");

    /* paid, attested by the old watcher key */
    memset(seckey_old, 0x11, 32);
    memset(seckey_new, 0x22, 32);
    bc_xonly_from_seckey(wk_old, seckey_old);
    bc_xonly_from_seckey(wk_new, seckey_new);
    rec.state = BC_STATE_PAID;
    rec.has_payment = rec.has_att = 1;
    rec.received = 5000;
    rec.conf = 1;
    rec.paid_at = 1500;
    bc_payment_msg(msg, bc_network_genesis(rec.inv.network), rec.inv.id, rec.spk, 22,
                   rec.received, rec.conf, rec.paid_at);
    bc_schnorr_sign(rec.att, msg, seckey_old, NULL);

    ok(bc_invoice_check_either(&rec, &cur, wk_new, wk_old, why, sizeof(why))
       == BC_INVOICE_SETTLED, "the old watcher key's attestation with both keys listed");
    ok(bc_invoice_check_either(&rec, &cur, wk_new, NULL, why, sizeof(why))
       == BC_INVOICE_BAD_ATT && strcmp(why, "attestation does not verify") == 0,
       "refused once the old key is dropped");
    ok(bc_invoice_check_either(&rec, &cur, wk_old, wk_new, why, sizeof(why))
       == BC_INVOICE_SETTLED, "either order");
    bc_schnorr_sign(rec.att, msg, seckey_new, NULL);
    ok(bc_invoice_check_either(&rec, &cur, wk_new, wk_old, why, sizeof(why))
       == BC_INVOICE_SETTLED
       && bc_invoice_check(&rec, &cur, wk_new, why, sizeof(why)) == BC_INVOICE_SETTLED,
       "the new key's attestation");
    rec.received = 4999;
    ok(bc_invoice_check_either(&rec, &cur, wk_new, wk_old, why, sizeof(why))
       == BC_INVOICE_BAD_ATT, "a changed payment verifies under neither key");
}

static void
catalog(void)
{
    bc_product_record p;

    memset(&p, 0, sizeof(p));
    p.terms.version = 2;
    p.terms.seq = 4;
    p.terms.price = 700;
    p.terms.title = "A";
    p.terms.title_len = 1;
    ok(bc_product_record_sign(&p, "/f/a.pdf", 8, &old), "a catalog record under the old secret");
    ok(bc_product_record_mac_ok(&p, "/f/a.pdf", 8, &rot), "verifies while rotating");
    ok(!bc_product_record_mac_ok(&p, "/f/a.pdf", 8, &cur), "not after");
    ok(!bc_product_record_mac_ok(&p, "/f/b.pdf", 8, &rot), "nor for another product");
    ok(bc_product_record_sign(&p, "/f/a.pdf", 8, &rot)
       && bc_product_record_mac_ok(&p, "/f/a.pdf", 8, &cur), "re-signed: the new secret's");
}

static void
wallets(void)
{
    unsigned char wid[BC_WALLET_ID_LEN];
    char text[BC_LEDGER_ENTRY_MAX], own[BC_OWNED_MAX], err[100];
    size_t n;
    bc_wallet_state s;
    bc_ledger_entry e;
    bc_wallet_owned o, back;

    memset(wid, 3, sizeof(wid));
    memset(&s, 0, sizeof(s));
    memcpy(s.wid, wid, sizeof(wid));
    s.network = 3;
    s.created = 1000;
    s.seq = 2;
    s.balance = 900;
    ok(bc_wallet_state_mac(s.mac, &s, &old), "a wallet state under the old secret");
    ok(bc_wallet_state_ok(&s, &rot), "verifies while rotating");
    ok(!bc_wallet_state_ok(&s, &cur), "not after");
    s.balance = 901;
    ok(!bc_wallet_state_ok(&s, &rot), "a changed balance under neither");

    memset(&e, 0, sizeof(e));
    e.kind = BC_ENTRY_DEBIT;
    e.seq = 1;
    e.amount = 100;
    e.expires = 5000;
    e.product = "/f/a.pdf";
    e.product_len = 8;
    e.seller = "tpubX";
    e.seller_len = 5;
    n = bc_ledger_entry_encode(text, sizeof(text), &e, wid, &old);
    ok(n > 0, "a ledger entry under the old secret");
    ok(bc_ledger_entry_ok(text, n, wid, &rot), "verifies while rotating");
    ok(!bc_ledger_entry_ok(text, n, wid, &cur), "not after");

    memset(&o, 0, sizeof(o));
    o.uses = 2;
    o.expires = 5000;
    o.seq = 1;
    n = bc_wallet_owned_encode(own, &o, wid, "/f/a.pdf", 8, &old);
    ok(n > 0 && bc_wallet_owned_parse(&back, own, n, wid, "/f/a.pdf", 8, &rot, err,
                                      sizeof(err)), "an ownership verifies while rotating");
    ok(!bc_wallet_owned_parse(&back, own, n, wid, "/f/a.pdf", 8, &cur, err, sizeof(err))
       && strcmp(err, "ownership MAC does not verify") == 0, "not after");
}

static void
sealed(void)
{
    unsigned char key[BC_SEALED_KEY_LEN], id[BC_SEALED_ID_LEN], got[BC_SEALED_KEY_LEN];
    unsigned char wrapped[BC_SEALKEY_WRAPPED_LEN];
    const unsigned char *prod = (const unsigned char *) "/f/a.pdf";

    memset(key, 0x42, sizeof(key));
    bc_sealed_key_id(id, key);
    ok(bc_sealkey_wrap(wrapped, old.seal_key, prod, 8, id, key, NULL),
       "a sealed file's key wrapped under the old secret");
    ok(bc_sealkey_unwrap_keys(got, &rot, prod, 8, id, wrapped)
       && memcmp(got, key, sizeof(key)) == 0, "unwraps while rotating");
    ok(!bc_sealkey_unwrap_keys(got, &cur, prod, 8, id, wrapped), "not after");
    ok(bc_sealkey_wrap(wrapped, rot.seal_key, prod, 8, id, key, NULL)
       && bc_sealkey_unwrap_keys(got, &cur, prod, 8, id, wrapped),
       "wrapped while rotating: the new secret's");
}

int
main(void)
{
    derive(&cur, 0xa1);
    derive(&rot, 0xa1);
    derive(&old, 0xb2);
    derive(&same, 0xa1);

    ok(cur.old == NULL, "derived keys have no old secret");
    ok(!bc_keys_rotate(&rot, &same) && rot.old == NULL,
       "rotating to the same secret is refused");
    ok(bc_keys_rotate(&rot, &old) && rot.old == &old, "rotating to another is taken");

    tokens();
    offers();
    invoices();
    catalog();
    wallets();
    sealed();

    bc_keys_clear(&cur);
    bc_keys_clear(&rot);
    bc_keys_clear(&old);
    bc_keys_clear(&same);
    return done_testing();
}
