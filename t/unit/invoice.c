/* Offers, invoice MACs, payment messages, minted token ids and catalog
 * MACs against t/vectors/selling.txt, made by an independent Perl
 * implementation (t/lib/ProtocolRef.pm); and every way an offer can be
 * wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_request.h"
#include "base64url.h"
#include "giveaway.h"
#include "hex.h"
#include "invoice.h"
#include "network.h"
#include "tap.h"

static char names[64][32], values[64][512];
static int nvalues;

static const char *
v(const char *name)
{
    int i;

    for (i = 0; i < nvalues; i++) {
        if (strcmp(names[i], name) == 0) return values[i];
    }
    diag("missing %s", name);
    return "";
}

static uint64_t u(const char *name) { return strtoull(v(name), NULL, 10); }

int
main(void)
{
    char line[1024], hex[65], out[BC_OFFER_MAX_CHARS + 1], bad[BC_OFFER_MAX_CHARS + 1], *eq;
    unsigned char secret[32], buf[BC_OFFER_MAX_BYTES], mac[32], id[16], spk[64], tid[16];
    FILE *in = fopen("t/vectors/selling.txt", "r");
    size_t len, i, fails;
    bc_keys keys;
    bc_offer o, d;
    bc_invoice inv;
    char wid[17];

    ok(in != NULL, "t/vectors/selling.txt opens");
    while (in && fgets(line, sizeof(line), in) && nvalues < 64) {
        if (line[0] == '#' || (eq = strchr(line, '=')) == NULL) continue;
        *eq = '\0';
        line[strcspn(eq + 1, "\n") + (size_t) (eq + 1 - line)] = '\0';
        snprintf(names[nvalues], sizeof(names[0]), "%.31s", line);
        snprintf(values[nvalues], sizeof(values[0]), "%.511s", eq + 1);
        nvalues++;
    }
    if (in) fclose(in);

    ok(bc_hex_decode(secret, 32, v("secret"), 64), "secret");
    bc_keys_derive(&keys, secret, 32);

    memset(&o, 0, sizeof(o));
    o.issued = u("issued");
    o.price = u("price");
    o.confirmations = (uint8_t) u("confirmations");
    o.invoice_ttl = (uint32_t) u("invoice_ttl");
    o.token_ttl = (uint32_t) u("token_ttl");
    o.max_downloads = (uint32_t) u("max_downloads");
    o.network = (uint8_t) u("network");
    o.wallet = v("wallet"); o.wallet_len = strlen(o.wallet);
    o.product = v("product"); o.product_len = strlen(o.product);
    o.title = v("title"); o.title_len = strlen(o.title);
    len = bc_offer_encode(out, &o, &keys);
    ok(len > 0 && out[0] == 'A' && out[1] == 'g', "offers are written in version 2");

    /* version 1, made before an upgrade, still decodes: no new terms */
    d.suggested = d.free_total = d.free_window = 7;
    ok(bc_offer_decode(&d, buf, v("offer"), strlen(v("offer")), &keys, o.issued + 10)
       == BC_OFFER_OK, "an offer of version 1 decodes");
    ok(d.price == o.price && d.suggested == 0 && d.free_total == 0 && d.free_window == 0
       && d.network == o.network && d.max_downloads == o.max_downloads
       && d.title_len == o.title_len && memcmp(d.title, o.title, o.title_len) == 0,
       "version 1: its price and fields, no suggested price or giveaway");

    o.suggested = u("suggested");
    o.free_total = (uint32_t) u("free_total");
    o.free_window = (uint32_t) u("free_window");
    len = bc_offer_encode(out, &o, &keys);
    is_str(out, v("offer2"), "offer (version 2)");
    ok(bc_offer_decode(&d, buf, out, len, &keys, o.issued + 10) == BC_OFFER_OK
       && d.suggested == o.suggested && d.free_total == o.free_total
       && d.free_window == o.free_window, "version 2: suggested price and giveaway back");

    ok(bc_offer_decode(&d, buf, out, len, &keys, o.issued + 10) == BC_OFFER_OK, "offer decodes");
    ok(d.price == o.price && d.confirmations == o.confirmations && d.network == o.network
       && d.invoice_ttl == o.invoice_ttl && d.token_ttl == o.token_ttl
       && d.max_downloads == o.max_downloads && d.issued == o.issued, "numbers back");
    ok(d.wallet_len == o.wallet_len && memcmp(d.wallet, o.wallet, o.wallet_len) == 0
       && d.product_len == o.product_len && memcmp(d.product, o.product, o.product_len) == 0
       && d.title_len == o.title_len && memcmp(d.title, o.title, o.title_len) == 0, "strings back");
    ok(bc_offer_decode(&d, buf, out, len, &keys, o.issued + BC_OFFER_LIFETIME + 1)
       == BC_OFFER_EXPIRED, "expired after an hour");
    ok(bc_offer_decode(&d, buf, out, len, &keys, o.issued - 3600) == BC_OFFER_EXPIRED,
       "not accepted from the future");

    fails = 0;
    for (i = 0; i < len; i++) {
        memcpy(bad, out, len + 1);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        fails += bc_offer_decode(&d, buf, bad, len, &keys, o.issued) == BC_OFFER_OK;
        fails += bc_offer_decode(&d, buf, out, i, &keys, o.issued) == BC_OFFER_OK;
    }
    ok(fails == 0, "every one-character change and truncation of the offer refused");

    memset(&inv, 0, sizeof(inv));
    ok(bc_hex_decode(inv.id, 16, v("invoice_id"), 32), "invoice id");
    inv.network = (uint8_t) u("network");
    inv.index = (uint32_t) u("index");
    inv.amount = u("price");
    inv.confirmations = (uint8_t) u("confirmations");
    inv.created = u("created");
    inv.expires = u("expires");
    inv.token_ttl = (uint32_t) u("token_ttl");
    inv.max_downloads = (uint32_t) u("max_downloads");
    inv.product = v("product"); inv.product_len = strlen(inv.product);
    inv.wallet = v("wallet"); inv.wallet_len = strlen(inv.wallet);
    inv.address = v("address"); inv.address_len = strlen(inv.address);
    inv.spk_len = strlen(v("spk")) / 2;
    ok(bc_hex_decode(spk, inv.spk_len, v("spk"), 2 * inv.spk_len), "spk");
    inv.spk = spk;
    inv.title = v("title"); inv.title_len = strlen(inv.title);
    ok(bc_hex_decode(inv.claim_hash, 32, v("claim_hash"), 64), "claim hash");
    {
        unsigned char claim[32], h[32];
        size_t n;

        ok(bc_b64url_decode(claim, sizeof(claim), &n, v("claim"), strlen(v("claim")))
           && n == 32 && bc_claim_hash(h, claim) && memcmp(h, inv.claim_hash, 32) == 0,
           "claim_hash is SHA256 of the claim");
    }
    inv.version = 3;
    inv.amount = u("invoice3_amount");
    inv.list = u("price");
    ok(bc_invoice_mac(mac, &inv, &keys), "invoice mac, version 3");
    bc_hex_encode(hex, mac, 32);
    is_str(hex, v("invoice3_mac"), "invoice MAC (version 3: amount and list)");
    inv.version = 0;
    ok(bc_invoice_mac(mac, &inv, &keys), "version 0 is the current one");
    bc_hex_encode(hex, mac, 32);
    is_str(hex, v("invoice3_mac"), "  the same MAC");
    inv.list++;
    bc_invoice_mac(mac, &inv, &keys);
    bc_hex_encode(hex, mac, 32);
    ok(strcmp(hex, v("invoice3_mac")) != 0, "another list price changes the MAC");
    inv.version = 4;
    ok(!bc_invoice_mac(mac, &inv, &keys), "no MAC of version 4");
    inv.version = 1;
    ok(!bc_invoice_mac(mac, &inv, &keys), "nor of version 1");

    inv.version = 2;
    inv.amount = u("price");
    inv.list = 999;         /* not in version 2 */
    ok(bc_invoice_mac(mac, &inv, &keys), "invoice mac, version 2");
    bc_hex_encode(hex, mac, 32);
    is_str(hex, v("invoice_mac"), "invoice MAC (version 2, list not in it)");
    inv.amount--;
    bc_invoice_mac(mac, &inv, &keys);
    bc_hex_encode(hex, mac, 32);
    ok(strcmp(hex, v("invoice_mac")) != 0, "a lower price changes the MAC");
    inv.amount++;
    inv.title = "Pay bcrt1qother"; inv.title_len = strlen(inv.title);
    bc_invoice_mac(mac, &inv, &keys);
    bc_hex_encode(hex, mac, 32);
    ok(strcmp(hex, v("invoice_mac")) != 0, "another title changes the MAC");
    inv.title = v("title"); inv.title_len = strlen(inv.title);
    inv.claim_hash[31] ^= 1;
    bc_invoice_mac(mac, &inv, &keys);
    bc_hex_encode(hex, mac, 32);
    ok(strcmp(hex, v("invoice_mac")) != 0, "another claim hash changes the MAC");

    memcpy(id, inv.id, 16);
    bc_hex_encode(hex, bc_network_genesis(inv.network), 32);
    is_str(hex, v("genesis"), "the invoice's network's genesis block hash");
    ok(bc_payment_msg(mac, bc_network_genesis(inv.network), id, spk, inv.spk_len, u("received"),
                      (uint32_t) u("conf"), u("paid_at")), "payment msg");
    bc_hex_encode(hex, mac, 32);
    is_str(hex, v("payment_msg"), "payment attestation message");
    bc_payment_msg(mac, bc_network_genesis(BC_TESTNET), id, spk, inv.spk_len, u("received"),
                   (uint32_t) u("conf"), u("paid_at"));
    bc_hex_encode(hex, mac, 32);
    ok(strcmp(hex, v("payment_msg")) != 0, "another network, another message");
    ok(!bc_payment_msg(mac, bc_network_genesis(9), id, spk, inv.spk_len, 1, 1, 1),
       "no message for an unknown network");
    {
        bc_network net = BC_MAINNET;

        ok(bc_network_from_genesis(&net, v("genesis"), 64) && net == BC_REGTEST,
           "the vector's genesis is regtest's");
        ok(bc_network_from_genesis(&net,
               "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f", 64)
           && net == BC_MAINNET, "mainnet's genesis");
        ok(!bc_network_from_genesis(&net,
               "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26e", 64),
           "an unknown chain");
        ok(!bc_network_from_genesis(&net, "00", 2), "not a hash");
    }

    ok(bc_invoice_token_id(tid, id, &keys), "token id");
    bc_hex_encode(hex, tid, 16);
    is_str(hex, v("token_id"), "minted token id");

    {
        bc_product_terms t = { 1, 0, o.price, 0, 0, 0, o.wallet, o.wallet_len,
                               o.title, o.title_len };

        ok(bc_product_mac(mac, &t, o.product, o.product_len, &keys), "product mac");
        bc_hex_encode(hex, mac, 32);
        is_str(hex, v("product_mac"), "catalog record MAC (version 1)");
        t.version = 2;
        t.seq = u("product_seq");
        ok(bc_product_mac(mac, &t, o.product, o.product_len, &keys), "product mac, version 2");
        bc_hex_encode(hex, mac, 32);
        is_str(hex, v("product2_mac"), "catalog record MAC (version 2, with seq)");
        t.seq++;
        t.price = 0;
        t.wallet = t.title = "";
        t.wallet_len = t.title_len = 0;
        ok(bc_product_mac(mac, &t, o.product, o.product_len, &keys), "product mac, withdrawn");
        bc_hex_encode(hex, mac, 32);
        is_str(hex, v("product2_withdrawn_mac"), "catalog record MAC (version 2, withdrawn)");
        t.version = 3;
        t.seq = u("product_seq");
        t.price = o.price;
        t.suggested = u("suggested");
        t.free = (uint32_t) u("free_total");
        t.free_window = (uint32_t) u("free_window");
        t.wallet = o.wallet; t.wallet_len = o.wallet_len;
        t.title = o.title; t.title_len = o.title_len;
        ok(bc_product_mac(mac, &t, o.product, o.product_len, &keys), "product mac, version 3");
        bc_hex_encode(hex, mac, 32);
        is_str(hex, v("product3_mac"), "catalog record MAC (version 3, suggested and giveaway)");
        t.free++;
        bc_product_mac(mac, &t, o.product, o.product_len, &keys);
        bc_hex_encode(hex, mac, 32);
        ok(strcmp(hex, v("product3_mac")) != 0, "more free copies change the MAC");
        t.version = 4;
        ok(!bc_product_mac(mac, &t, o.product, o.product_len, &keys), "no version 4");
    }

    ok(bc_free_token_id(tid, o.product, o.product_len, u("free_copy"), &keys), "free token id");
    bc_hex_encode(hex, tid, 16);
    is_str(hex, v("free_token_id"), "free copy's token id");
    bc_free_token_id(tid, o.product, o.product_len, u("free_copy") + 1, &keys);
    bc_hex_encode(hex, tid, 16);
    ok(strcmp(hex, v("free_token_id")) != 0, "another copy, another id");
    bc_free_token_id(tid, "/files/book.pdX", o.product_len, u("free_copy"), &keys);
    bc_hex_encode(hex, tid, 16);
    ok(strcmp(hex, v("free_token_id")) != 0, "another product, another id");
    {
        unsigned char addr[16];
        char h[33], h2[33];

        ok(bc_hex_decode(addr, 4, v("free_address"), 8), "free address");
        ok(bc_free_address_hash(h, o.product, o.product_len, addr, 4, &keys), "address hash");
        is_str(h, v("free_address_hash"), "giveaway address hash");
        addr[3] ^= 1;
        ok(bc_free_address_hash(h2, o.product, o.product_len, addr, 4, &keys)
           && strcmp(h, h2) != 0, "another address, another hash");
    }

    ok(bc_wallet_id(wid, o.wallet, o.wallet_len), "wallet id");
    is_str(wid, v("wallet_id"), "wallet id");

    bc_keys_clear(&keys);
    return done_testing();
}
