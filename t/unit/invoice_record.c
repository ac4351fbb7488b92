/* Invoice and catalog records read back from Redis' field/value lists and
 * checked the way the status endpoint settles an invoice: the record of
 * t/vectors/selling.txt (whose invoice_mac comes from the Perl reference),
 * paid and signed with a test watcher key, then every way it can fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "invoice_record.h"
#include "network.h"
#include "schnorr.h"
#include "api_request.h"
#include "tap.h"

#define MAXF 48

/* the record under test: field/value pairs as HGETALL would give them */
static char fname[MAXF][32], fval[MAXF][1100];
static int nf;

static void
set(const char *name, const char *value)
{
    int i;

    for (i = 0; i < nf && strcmp(fname[i], name) != 0; i++) {
    }
    if (i == nf) {
        if (nf == MAXF) return;
        nf++;
    }
    snprintf(fname[i], sizeof(fname[i]), "%s", name);
    snprintf(fval[i], sizeof(fval[i]), "%s", value);
}

static void
del(const char *name)
{
    int i;

    for (i = 0; i < nf; i++) {
        if (strcmp(fname[i], name) == 0) {
            nf--;
            memcpy(fname[i], fname[nf], sizeof(fname[i]));
            memcpy(fval[i], fval[nf], sizeof(fval[i]));
            return;
        }
    }
}

static const char *
get(const char *name)
{
    int i;

    for (i = 0; i < nf; i++) {
        if (strcmp(fname[i], name) == 0) return fval[i];
    }
    return "";
}

static const char *kv[2 * MAXF];
static size_t kvlen[2 * MAXF];

static size_t
pairs(void)
{
    int i;

    for (i = 0; i < nf; i++) {
        kv[2 * i] = fname[i];
        kvlen[2 * i] = strlen(fname[i]);
        kv[2 * i + 1] = fval[i];
        kvlen[2 * i + 1] = strlen(fval[i]);
    }
    return (size_t) (2 * nf);
}

static unsigned char id[16], wseckey[32], wxonly[32];
static bc_keys keys;
static char err[BC_INVOICE_WHY_MAX], why[BC_INVOICE_WHY_MAX];

static int
parse(bc_invoice_record *rec)
{
    err[0] = '\0';
    return bc_invoice_record_parse(rec, id, kv, kvlen, pairs(), err, sizeof(err));
}

/* the watcher's signature over the record's current payment fields */
static void
sign(void)
{
    unsigned char spk[BC_SPK_MAX], msg[32], sig[64], aux[32] = { 0 };
    char hex[129];
    size_t spklen = strlen(get("spk")) / 2;

    bc_hex_decode(spk, spklen, get("spk"), 2 * spklen);
    bc_payment_msg(msg, bc_network_genesis((unsigned) strtoul(get("network"), NULL, 10)), id,
                   spk, spklen, strtoull(get("received"), NULL, 10),
                   (uint32_t) strtoul(get("conf"), NULL, 10), strtoull(get("paid_at"), NULL, 10));
    bc_schnorr_sign(sig, msg, wseckey, aux);
    bc_hex_encode(hex, sig, 64);
    set("att", hex);
}

/* parse + check: the reason, or "parse: <error>" */
static const char *
verdict(bc_invoice_check_result *res)
{
    static char out[2 * BC_INVOICE_WHY_MAX];
    bc_invoice_record rec;

    if (!parse(&rec)) {
        snprintf(out, sizeof(out), "parse: %s", err);
        *res = (bc_invoice_check_result) -1;
        return out;
    }
    *res = bc_invoice_check(&rec, &keys, wxonly, why, sizeof(why));
    return why;
}

static void
expect(const char *what, bc_invoice_check_result want_res, const char *want)
{
    bc_invoice_check_result res;
    const char *got = verdict(&res);

    is_str(got, want, "%s: \"%s\"", what, want);
    ok(res == want_res, "%s: result %d", what, (int) want_res);
}

static void
load_vectors(void)
{
    char line[1024], *eq;
    FILE *in = fopen("t/vectors/selling.txt", "r");

    ok(in != NULL, "t/vectors/selling.txt opens");
    while (in && fgets(line, sizeof(line), in)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || (eq = strchr(line, '=')) == NULL) continue;
        *eq = '\0';
        /* the vector file's names are the record's, but for these: the
         * record keeps the claim's hash in "claim", never the secret */
        set(strcmp(line, "price") == 0 ? "amount"
            : strcmp(line, "invoice_mac") == 0 ? "mac"
            : strcmp(line, "claim") == 0 ? "claim_secret"
            : strcmp(line, "claim_hash") == 0 ? "claim" : line, eq + 1);
    }
    if (in) fclose(in);
}

static void
test_records(void)
{
    bc_invoice_record rec;
    unsigned char secret[32];
    char saved[512];

    load_vectors();
    set("v", "2");
    ok(bc_hex_decode(secret, 32, get("secret"), 64), "secret");
    ok(bc_keys_derive(&keys, secret, 32), "keys");
    ok(bc_hex_decode(id, 16, get("invoice_id"), 32), "invoice id");

    /* a fresh invoice, as the module writes it (plus the vector file's
     * other names, which a record may carry and which are ignored) */
    ok(parse(&rec), "the vector invoice parses (%s)", err);
    ok(rec.inv.amount == 12345 && rec.inv.index == 7 && rec.inv.network == 3
       && rec.inv.confirmations == 1 && rec.inv.created == 1767225600
       && rec.inv.expires == 1767229200 && rec.inv.token_ttl == 86400
       && rec.inv.max_downloads == 3, "numbers");
    ok(rec.inv.product_len == 15 && memcmp(rec.inv.product, "/files/book.pdf", 15) == 0
       && rec.inv.title_len == 8 && memcmp(rec.inv.title, "The Book", 8) == 0
       && rec.inv.address_len == 13 && rec.inv.spk_len == 22 && rec.inv.spk[0] == 0
       && rec.inv.spk[21] == 0xab, "strings and spk");
    ok(rec.state == BC_STATE_NEW && !rec.has_att, "no state field: new");
    ok(bc_invoice_record_mac_ok(&rec, &keys), "its MAC (from the Perl reference) verifies");
    ok(bc_invoice_record_att_check(&rec, wxonly) == BC_INVOICE_NO_ATT, "no attestation yet");
    expect("unpaid", BC_INVOICE_NOT_PAID, "state is new");

    /* paid and attested: settles */
    set("state", "paid");
    sign();
    ok(parse(&rec) && rec.has_payment && rec.received == 12400 && rec.conf == 2
       && rec.paid_at == 1767226000, "payment fields");
    ok(bc_invoice_record_att_check(&rec, wxonly) == BC_INVOICE_SETTLED, "attestation verifies");
    expect("paid", BC_INVOICE_SETTLED, "settled");

    /* each check, failing alone */
    set("amount", "12344");
    expect("lower price", BC_INVOICE_BAD_MAC, "invoice MAC does not verify");
    set("amount", "12345");
    snprintf(saved, sizeof(saved), "%s", get("address"));
    set("address", "bcrt1qattacker");
    expect("swapped address", BC_INVOICE_BAD_MAC, "invoice MAC does not verify");
    set("address", saved);
    set("product", "/files/other.pdf");
    expect("other product", BC_INVOICE_BAD_MAC, "invoice MAC does not verify");
    set("product", "/files/book.pdf");
    set("title", "Pay to bcrt1qattacker instead");
    expect("the title is MAC'd too", BC_INVOICE_BAD_MAC, "invoice MAC does not verify");
    set("title", "The Book");
    set("claim", "dab949b2cb7dcbb691658c649a44c69567f99ce5cc14b9585c6e0b80df31a496");
    expect("another claim hash", BC_INVOICE_BAD_MAC, "invoice MAC does not verify");
    set("claim", "dab949b2cb7dcbb691658c649a44c69567f99ce5cc14b9585c6e0b80df31a497");
    expect("the claim hash back", BC_INVOICE_SETTLED, "settled");
    set("mac", "00000000000000000000000000000000000000000000000000000000000000ff");
    expect("another mac", BC_INVOICE_BAD_MAC, "invoice MAC does not verify");
    load_vectors();   /* back to the vector's mac and fields */

    set("state", "underpaid");
    expect("underpaid", BC_INVOICE_NOT_PAID, "state is underpaid");
    set("state", "seen");
    expect("seen", BC_INVOICE_NOT_PAID, "state is seen");
    set("state", "expired");
    expect("expired", BC_INVOICE_NOT_PAID, "state is expired");
    set("state", "paid");

    del("att");
    expect("paid without att", BC_INVOICE_NO_ATT, "no watcher attestation");
    sign();
    del("paid_at");
    expect("att without paid_at", BC_INVOICE_NO_ATT, "no watcher attestation");
    set("paid_at", "1767226000");
    expect("paid_at back", BC_INVOICE_SETTLED, "settled");

    set("received", "99999999");
    expect("received raised after signing", BC_INVOICE_BAD_ATT, "attestation does not verify");
    set("received", "12400");
    set("conf", "6");
    expect("conf raised after signing", BC_INVOICE_BAD_ATT, "attestation does not verify");
    set("conf", "2");
    set("paid_at", "1767226001");
    expect("paid_at moved after signing", BC_INVOICE_BAD_ATT, "attestation does not verify");
    set("paid_at", "1767226000");
    set("att", "zz");
    expect("att not hex", BC_INVOICE_BAD_ATT, "attestation does not verify");
    sign();
    wxonly[5] ^= 1;
    expect("another watcher key", BC_INVOICE_BAD_ATT, "attestation does not verify");
    wxonly[5] ^= 1;

    /* signed by the watcher, but not enough */
    set("received", "100");
    sign();
    set("amount", "200");
    expect("amount 200 (MAC first)", BC_INVOICE_BAD_MAC, "invoice MAC does not verify");
    set("amount", "12345");
    expect("underpaid but signed", BC_INVOICE_UNDERPAID, "received 100 < amount 12345");
    set("received", "12345");
    set("conf", "0");
    sign();
    expect("unconfirmed", BC_INVOICE_UNCONFIRMED, "0 of 1 confirmations");
    set("conf", "1");
    sign();
    expect("exactly the amount and the confirmations", BC_INVOICE_SETTLED, "settled");
}

/* a module field missing or unreadable: the record does not parse */
static void
test_malformed(void)
{
    static const struct { const char *field, *value, *err; } bad[] = {
        { "amount", NULL, "no field amount" },
        { "mac", NULL, "no field mac" },
        { "spk", NULL, "no field spk" },
        { "v", NULL, "no field v" },
        { "v", "1", "field v is 1, not 2 or 3 (a record of another version)" },
        { "v", "4", "field v is 4, not 2 or 3 (a record of another version)" },
        { "v", "256", "field v is not a number from 0 to 255" },
        { "title", NULL, "no field title" },
        { "claim", NULL, "no field claim" },
        { "claim", "abc", "field claim is not 64 hex digits" },
        { "amount", "-1", "field amount is not a number from 0 to 18446744073709551615" },
        { "amount", "18446744073709551616", "field amount is not a number from 0 to 18446744073709551615" },
        { "amount", "", "field amount is not a number from 0 to 18446744073709551615" },
        { "amount", "1 ", "field amount is not a number from 0 to 18446744073709551615" },
        { "network", "4", "field network is not a number from 0 to 3" },
        { "index", "4294967296", "field index is not a number from 0 to 4294967295" },
        { "confirmations", "256", "field confirmations is not a number from 0 to 255" },
        { "conf", "x", "field conf is not a number from 0 to 4294967295" },
        { "received", "1.5", "field received is not a number from 0 to 18446744073709551615" },
        { "mac", "abc", "field mac is not 64 hex digits" },
        { "spk", "0014zz", "field spk is not a scriptPubKey in hex" },
        { "spk", "001", "field spk is not a scriptPubKey in hex" },
        { "state", "bogus", "field state is \"bogus\"" },
        { "state", "PAID", "field state is \"PAID\"" },
    };
    char saved[512], huge[1100];
    bc_invoice_record rec;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(saved, sizeof(saved), "%s", get(bad[i].field));
        if (bad[i].value) set(bad[i].field, bad[i].value); else del(bad[i].field);
        ok(!parse(&rec), "%s=%s refused", bad[i].field, bad[i].value ? bad[i].value : "(none)");
        is_str(err, bad[i].err, "  says \"%s\"", bad[i].err);
        set(bad[i].field, saved);
    }
    memset(huge, 'x', 1025);
    huge[1025] = '\0';
    set("product", huge);
    ok(!parse(&rec), "a product longer than 1024 bytes refused");
    is_str(err, "field product is longer than 1024 bytes", "  and says so");
    set("product", "/files/book.pdf");
    ok(parse(&rec), "the record parses again (%s)", err);

    ok(!bc_invoice_record_parse(&rec, id, kv, kvlen, 0, err, sizeof(err)), "no fields");
    is_str(err, "no such invoice", "  is no such invoice");
    ok(!bc_invoice_record_parse(&rec, id, kv, kvlen, 3, err, sizeof(err)), "odd count");

    /* values need not be NUL-terminated: "12345" out of "123456" */
    for (i = 0; i < (size_t) nf && strcmp(fname[i], "amount") != 0; i++) {
    }
    set("amount", "123456");
    pairs();
    {
        bc_invoice_record r2;
        kvlen[2 * i + 1] = 5;
        ok(bc_invoice_record_parse(&r2, id, kv, kvlen, (size_t) (2 * nf), err, sizeof(err))
           && r2.inv.amount == 12345, "lengths are honoured, not NULs");
    }
    set("amount", "12345");
}

static void
test_states(void)
{
    bc_invoice_state st;
    int i;

    for (i = BC_STATE_NEW; i <= BC_STATE_EXPIRED; i++) {
        const char *s = bc_invoice_state_str((bc_invoice_state) i);
        ok(bc_invoice_state_parse(&st, s, strlen(s)) && st == (bc_invoice_state) i,
           "state %s round-trips", s);
    }
    ok(!bc_invoice_state_parse(&st, "pai", 3) && !bc_invoice_state_parse(&st, "paidx", 5),
       "prefixes and longer names are not states");
}

/* version 2: seq inside the MAC, price 0 withdraws; and what the module
 * decides against its high-water mark */
static void
test_products_v2(void)
{
    bc_product_record p, q;
    bc_product_argv_buf buf;
    const char *pk[10], *av[BC_PRODUCT_ARGV_MAX];
    size_t pl[10], al[BC_PRODUCT_ARGV_MAX], i, n;
    char mac[65], wallet[512], seq[24], withdrawn[65];
    uint64_t mark;

    nf = 0;
    load_vectors();
    snprintf(mac, sizeof(mac), "%s", get("product2_mac"));
    snprintf(wallet, sizeof(wallet), "%s", get("wallet"));
    snprintf(seq, sizeof(seq), "%s", get("product_seq"));
    snprintf(withdrawn, sizeof(withdrawn), "%s", get("product2_withdrawn_mac"));
    nf = 0;
    set("price", "12345");
    set("wallet", wallet);
    set("title", "The Book");
    set("mac", mac);
    set("seq", seq);
    for (i = 0; i < 10; i++) {
        pk[i] = i % 2 ? fval[i / 2] : fname[i / 2];
        pl[i] = strlen(pk[i]);
    }
    ok(bc_product_record_parse(&p, pk, pl, 10, err, sizeof(err)), "v2 record parses (%s)", err);
    ok(p.terms.version == 2 && p.terms.seq == 1767225600000ull && p.terms.price == 12345, "  version 2, its seq");
    ok(bc_product_record_mac_ok(&p, "/files/book.pdf", 15, &keys), "  its MAC (Perl reference) verifies");
    p.terms.seq--;
    ok(!bc_product_record_mac_ok(&p, "/files/book.pdf", 15, &keys), "  not with another seq");
    p.terms.seq++;
    p.terms.version = 1;
    ok(!bc_product_record_mac_ok(&p, "/files/book.pdf", 15, &keys), "  nor read as version 1 (seq dropped)");
    ok(!bc_product_record_parse(&q, pk, pl, 8, err, sizeof(err)) || !bc_product_record_mac_ok(&q,
       "/files/book.pdf", 15, &keys), "  without its seq field it does not verify");
    p.terms.version = 2;

    /* the writer's argv parses back to the same record */
    n = bc_product_record_argv(av, al, &buf, &p);
    ok(n == 10, "argv: five fields");
    ok(bc_product_record_parse(&q, av, al, n, err, sizeof(err)) && q.terms.version == 2
       && q.terms.seq == p.terms.seq && q.terms.price == p.terms.price && memcmp(q.mac, p.mac, 32) == 0
       && bc_product_record_mac_ok(&q, "/files/book.pdf", 15, &keys), "  parses back, MAC ok");

    /* withdrawn: price 0 (v2 only), wallet and title empty */
    memset(&q, 0, sizeof(q));
    q.terms.version = 2;
    q.terms.seq = p.terms.seq + 1;
    q.terms.wallet = q.terms.title = "";
    ok(bc_product_record_sign(&q, "/files/book.pdf", 15, &keys), "sign a withdrawal");
    bc_hex_encode(mac, q.mac, 32);
    is_str(mac, withdrawn, "  the vector's withdrawn MAC");
    n = bc_product_record_argv(av, al, &buf, &q);
    ok(bc_product_record_parse(&q, av, al, n, err, sizeof(err)) && q.terms.price == 0,
       "  price 0 parses in version 2 (%s)", err);

    pk[9] = "0";
    pl[9] = 1;
    ok(!bc_product_record_parse(&q, pk, pl, 10, err, sizeof(err)), "seq 0 refused");
    is_str(err, "field seq is not a number from 1 to 18446744073709551615", "  says so");
    pk[9] = "18446744073709551616";
    pl[9] = 20;
    ok(!bc_product_record_parse(&q, pk, pl, 10, err, sizeof(err)), "seq 2^64 refused");
    pk[9] = "-1";
    pl[9] = 2;
    ok(!bc_product_record_parse(&q, pk, pl, 10, err, sizeof(err)), "seq -1 refused");
    pk[9] = "18446744073709551615";
    pl[9] = 20;
    ok(bc_product_record_parse(&q, pk, pl, 10, err, sizeof(err)) && q.terms.seq == UINT64_MAX,
       "seq 2^64-1 parses");

    /* the module's decision against the high-water mark */
    mark = 0;
    ok(bc_catalog_decide(NULL, &mark) == BC_CATALOG_DIRECTIVES && mark == 0,
       "no record, no mark: the directives");
    q = p;
    q.terms.version = 1;
    ok(bc_catalog_decide(&q, &mark) == BC_CATALOG_USE && mark == 0,
       "a v1 record, no mark: used, no mark made");
    ok(bc_catalog_decide(&p, &mark) == BC_CATALOG_USE && mark == p.terms.seq,
       "a v2 record: used, the mark raised to its seq");
    ok(bc_catalog_decide(&p, &mark) == BC_CATALOG_USE && mark == p.terms.seq, "  read again: used");
    ok(bc_catalog_decide(&q, &mark) == BC_CATALOG_ROLLED_BACK, "a v1 record after it: rolled back");
    ok(bc_catalog_decide(NULL, &mark) == BC_CATALOG_ROLLED_BACK && mark == p.terms.seq,
       "gone (or forged) after it: rolled back, mark kept");
    q = p;
    q.terms.seq--;
    ok(bc_catalog_decide(&q, &mark) == BC_CATALOG_ROLLED_BACK && mark == p.terms.seq,
       "an older v2 record: rolled back");
    q.terms.seq = p.terms.seq + 5;
    q.terms.price = 0;
    ok(bc_catalog_decide(&q, &mark) == BC_CATALOG_DIRECTIVES && mark == p.terms.seq + 5,
       "a newer withdrawal: the directives, mark raised");
    ok(bc_catalog_decide(&p, &mark) == BC_CATALOG_ROLLED_BACK, "  the record before it: rolled back");
}

static void
test_products(void)
{
    bc_product_record p;
    const char *pk[8];
    size_t pl[8], i;
    char mac[65], wallet[512];

    nf = 0;
    load_vectors();
    snprintf(mac, sizeof(mac), "%s", get("product_mac"));
    snprintf(wallet, sizeof(wallet), "%s", get("wallet"));
    nf = 0;
    set("price", "12345");
    set("wallet", wallet);
    set("title", "The Book");
    set("mac", mac);
    for (i = 0; i < 8; i++) {
        pk[i] = i % 2 ? fval[i / 2] : fname[i / 2];
        pl[i] = strlen(pk[i]);
    }
    ok(bc_product_record_parse(&p, pk, pl, 8, err, sizeof(err)), "catalog record parses (%s)", err);
    ok(p.terms.price == 12345 && p.terms.title_len == 8 && p.terms.wallet_len == strlen(wallet), "its fields");
    ok(bc_product_record_mac_ok(&p, "/files/book.pdf", 15, &keys), "its MAC (Perl reference) verifies");
    ok(!bc_product_record_mac_ok(&p, "/files/book.pdf2", 16, &keys), "not for another product");
    p.terms.price--;
    ok(!bc_product_record_mac_ok(&p, "/files/book.pdf", 15, &keys), "nor at another price");

    pk[1] = "0";
    pl[1] = 1;
    ok(!bc_product_record_parse(&p, pk, pl, 8, err, sizeof(err)), "price 0 refused");
    is_str(err, "field price is not a number of satoshis from 1 to 2100000000000000", "  says so");
    pk[1] = "2100000000000001";
    pl[1] = 16;
    ok(!bc_product_record_parse(&p, pk, pl, 8, err, sizeof(err)), "more than 21e6 BTC refused");
    pk[1] = "12345";
    pl[1] = 5;
    ok(!bc_product_record_parse(&p, pk, pl, 6, err, sizeof(err)), "without mac");
    is_str(err, "no field mac", "  says no field mac");
    ok(!bc_product_record_parse(&p, pk, pl, 0, err, sizeof(err)), "empty");
    is_str(err, "no such product", "  says no such product");
    pk[7] = "beef";
    pl[7] = 4;
    ok(!bc_product_record_parse(&p, pk, pl, 8, err, sizeof(err)), "short mac");
    is_str(err, "field mac is not 64 hex digits", "  says so");

    test_products_v2();
}

/* version 3: list (the offer's price) beside the amount chosen, both in
 * the MAC; version 2 still parses and verifies, its list its amount */
static void
test_v3(void)
{
    bc_invoice_record rec;

    nf = 0;
    load_vectors();
    set("v", "2");
    set("list", "1");           /* not MAC'd in version 2: means nothing */
    ok(parse(&rec) && rec.inv.version == 2, "version 2 parses (%s)", err);
    ok(rec.inv.list == rec.inv.amount && rec.inv.amount == 12345, "version 2: list is amount");
    ok(bc_invoice_record_mac_ok(&rec, &keys), "version 2: its MAC verifies");
    del("list");
    ok(parse(&rec) && rec.inv.list == 12345, "version 2 without list parses");

    set("v", "3");
    ok(!parse(&rec), "version 3 without list refused");
    is_str(err, "no field list", "  says \"no field list\"");
    set("list", "12345");
    set("amount", get("invoice3_amount"));
    set("mac", get("invoice3_mac"));
    ok(parse(&rec) && rec.inv.version == 3, "version 3 parses (%s)", err);
    ok(rec.inv.amount == 15000 && rec.inv.list == 12345, "amount and list");
    ok(bc_invoice_record_mac_ok(&rec, &keys), "version 3: MAC (Perl reference) verifies");

    set("state", "paid");
    set("received", "12400");
    sign();
    expect("v3 paid the list price only", BC_INVOICE_UNDERPAID, "received 12400 < amount 15000");
    set("received", "15000");
    sign();
    expect("v3 paid the amount", BC_INVOICE_SETTLED, "settled");
    set("list", "12344");
    expect("v3 list lowered", BC_INVOICE_BAD_MAC, "invoice MAC does not verify");
    set("list", "15001");
    expect("v3 list raised (the MAC decides)", BC_INVOICE_BAD_MAC, "invoice MAC does not verify");
    set("list", "x");
    ok(!parse(&rec), "v3 list not a number refused");
    set("list", "12345");
    set("v", "2");
    expect("a v3 record called v2", BC_INVOICE_BAD_MAC, "invoice MAC does not verify");
    set("v", "3");
    set("amount", "12345");
    expect("v3 amount lowered to list", BC_INVOICE_BAD_MAC, "invoice MAC does not verify");
    set("amount", "15000");
    expect("v3 back", BC_INVOICE_SETTLED, "settled");
}

/* the module's writer: what it writes parses back to the same invoice,
 * its MAC verifies, and the vector's claim secret matches its hash */
static void
test_argv(void)
{
    bc_invoice_record rec, back;
    bc_invoice_argv a;
    unsigned char mac[32];
    size_t i;

    nf = 0;
    load_vectors();
    set("v", "2");
    ok(parse(&rec), "vector record parses (%s)", err);
    ok(bc_invoice_mac(mac, &rec.inv, &keys), "MAC");
    ok(bc_invoice_record_argv(&a, &rec.inv, mac), "argv");
    ok(a.n == 2 * 17, "%u strings (version 2: no list)", (unsigned) a.n);
    ok(bc_invoice_record_parse(&back, id, a.argv, a.argvlen, a.n, err, sizeof(err)),
       "the written record parses (%s)", err);
    ok(bc_invoice_record_mac_ok(&back, &keys), "and its MAC verifies");
    ok(back.state == BC_STATE_NEW && back.inv.amount == 12345
       && back.inv.title_len == 8 && memcmp(back.inv.claim_hash, rec.inv.claim_hash, 32) == 0,
       "same fields");
    ok(strcmp(a.argv[0], bc_invoice_field_name(BC_INV_V)) == 0 && strcmp(a.argv[1], "2") == 0
       && strcmp(a.argv[2], "state") == 0 && strcmp(a.argv[3], "new") == 0,
       "v 2, state new first");
    rec.inv.version = 3;
    rec.inv.amount = 20000;
    rec.inv.list = 12345;
    ok(bc_invoice_mac(mac, &rec.inv, &keys) && bc_invoice_record_argv(&a, &rec.inv, mac),
       "argv, version 3");
    ok(a.n == 2 * BC_INVOICE_MODULE_PAIRS, "%u strings (version 3)", (unsigned) a.n);
    ok(strcmp(a.argv[1], "3") == 0, "v 3");
    ok(bc_invoice_record_parse(&back, id, a.argv, a.argvlen, a.n, err, sizeof(err))
       && back.inv.version == 3 && back.inv.amount == 20000 && back.inv.list == 12345,
       "version 3 written parses back (%s)", err);
    ok(bc_invoice_record_mac_ok(&back, &keys), "and its MAC verifies");
    rec.inv.version = 0;
    ok(bc_invoice_record_argv(&a, &rec.inv, mac) && strcmp(a.argv[1], "3") == 0
       && a.n == 2 * BC_INVOICE_MODULE_PAIRS, "version 0 writes version 3");
    rec.inv.version = 1;
    ok(!bc_invoice_record_argv(&a, &rec.inv, mac), "no version 1 written");
    rec.inv.version = 2;
    for (i = 0; i < a.n; i += 2) {
        ok(strcmp(a.argv[i], "claim") != 0 || a.argvlen[i + 1] == 64, "claim: a hash, 64 hex");
    }
    ok(bc_claim_matches(back.inv.claim_hash, get("claim_secret"), strlen(get("claim_secret"))),
       "the vector's claim matches the record's hash");
    ok(!bc_claim_matches(back.inv.claim_hash, "wP_uwP_uwP_uwP_uwP_uwP_uwP_uwP_uwP_uwP_uwP4", 43),
       "another claim does not");
}

int
main(void)
{
    int i;

    for (i = 0; i < 32; i++) {
        wseckey[i] = (unsigned char) (0x42 + i);
    }
    ok(bc_xonly_from_seckey(wxonly, wseckey), "watcher test key");
    test_records();
    test_malformed();
    test_states();
    test_products();
    test_v3();
    test_argv();
    bc_keys_clear(&keys);
    return done_testing();
}
