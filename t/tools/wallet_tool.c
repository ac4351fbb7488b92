/* Test tool: libbitcache's wallet records (wallet_record.h) behind the
 * line protocol of t/node/wallet.js, so that t/70-wallet-vectors.t can
 * put the two implementations side by side, and tests can write records
 * the way the module does. Reads commands from stdin, one a line, fields
 * split by tabs; answers one line each, "error" when refused:
 *
 *   code SECRET | decode TYPEDHEX | state KEY WID NET CREATED SEQ BAL HEAD AUTO
 *   credit KEY WID SEQ BAL TIME PREV INVOICE NET RECEIVED CONF PAID_AT SPK ATT
 *   debit KEY WID SEQ AMOUNT BAL TIME PREV PURCHASE USES EXPIRES PRODUCTHEX SELLERHEX
 *   owned KEY WID PURCHASE USES EXPIRES SEQ PRODUCTHEX | ownparse KEY WID PRODUCTHEX VALUE
 *   parse TEXTHEX | verify KEY WID TEXTHEX | att WATCHERPUB TEXTHEX
 *
 * KEY is the bitcache secret in hex. `wallet_tool script buy|credit|set`
 * prints a script's text instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "invoice_record.h"
#include "wallet_record.h"

#define FIELDS_MAX 16
#define LINE_MAX_  (4 * BC_LEDGER_ENTRY_MAX + 256)

static char out[4 * BC_LEDGER_ENTRY_MAX + 512];

static int
hexn(unsigned char *b, size_t n, const char *s)
{
    return strlen(s) == 2 * n && bc_hex_decode(b, n, s, 2 * n);
}

/* hex of any length into b (cap bytes) */
static int
hexv(unsigned char *b, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);

    if (len % 2 != 0 || len / 2 > cap) {
        return 0;
    }
    *n = len / 2;
    return bc_hex_decode(b, *n, s, len);
}

/* strict decimal: what the parsers accept (wallet_record.c dec_parse) */
static int
num(uint64_t *v, const char *s, uint64_t max)
{
    size_t len = strlen(s);

    return (len == 1 || (len > 1 && s[0] != '0')) && bc_parse_uint_n(v, s, len, max);
}

static int
keys_of(bc_keys *keys, const char *hex)
{
    unsigned char secret[BC_SECRET_MAX];
    size_t n;

    return hexv(secret, sizeof(secret), &n, hex) && n >= 1 && bc_keys_derive(keys, secret, n);
}

static void
hex_out(const unsigned char *b, size_t n)
{
    bc_hex_encode(out, b, n);
}

static int
entry_out(const char *text, size_t len)
{
    unsigned char h[32];
    char hh[65];

    if (len == 0 || !bc_ledger_entry_hash(h, text, len)) {
        return 0;
    }
    bc_hex_encode(hh, h, 32);
    memmove(out, text, len);
    snprintf(out + len, sizeof(out) - len, "\t%s", hh);
    return 1;
}

static int
cmd_credit(char **a, bc_keys *keys)
{
    unsigned char wid[BC_WALLET_ID_LEN];
    char text[BC_LEDGER_ENTRY_MAX];
    bc_ledger_entry e;
    uint64_t v;

    memset(&e, 0, sizeof(e));
    e.kind = BC_ENTRY_CREDIT;
    if (!hexn(wid, sizeof(wid), a[1]) || !num(&e.seq, a[2], UINT64_MAX)
        || !num(&e.balance, a[3], UINT64_MAX) || !num(&e.time, a[4], UINT64_MAX)
        || !hexn(e.prev, 32, a[5]) || !hexn(e.invoice, 16, a[6])
        || !num(&v, a[7], 255) || (e.network = (uint8_t) v, !num(&e.received, a[8], UINT64_MAX))
        || !num(&v, a[9], UINT32_MAX) || (e.conf = (uint32_t) v, !num(&e.paid_at, a[10], UINT64_MAX))
        || !hexv(e.spk, sizeof(e.spk), &e.spk_len, a[11]) || !hexn(e.att, 64, a[12]))
    {
        return 0;
    }
    e.amount = e.received;
    return entry_out(text, bc_ledger_entry_encode(text, sizeof(text), &e, wid, keys));
}

static int
cmd_debit(char **a, bc_keys *keys)
{
    static unsigned char product[2048], seller[2048];
    unsigned char wid[BC_WALLET_ID_LEN];
    char text[BC_LEDGER_ENTRY_MAX];
    bc_ledger_entry e;
    uint64_t v;

    memset(&e, 0, sizeof(e));
    e.kind = BC_ENTRY_DEBIT;
    if (!hexn(wid, sizeof(wid), a[1]) || !num(&e.seq, a[2], UINT64_MAX)
        || !num(&e.amount, a[3], UINT64_MAX) || !num(&e.balance, a[4], UINT64_MAX)
        || !num(&e.time, a[5], UINT64_MAX) || !hexn(e.prev, 32, a[6])
        || !hexn(e.purchase, 16, a[7]) || !num(&v, a[8], UINT32_MAX)
        || (e.uses = (uint32_t) v, !num(&e.expires, a[9], UINT64_MAX))
        || !hexv(product, sizeof(product), &e.product_len, a[10])
        || !hexv(seller, sizeof(seller), &e.seller_len, a[11]))
    {
        return 0;
    }
    e.product = (const char *) product;
    e.seller = (const char *) seller;
    return entry_out(text, bc_ledger_entry_encode(text, sizeof(text), &e, wid, keys));
}

static int
cmd_parse(const char *texthex)
{
    static unsigned char text[2 * BC_LEDGER_ENTRY_MAX], buf[2 * BC_LEDGER_ENTRY_MAX];
    char err[128], h[4][2 * 1024 + 1];
    bc_ledger_entry e;
    size_t n;

    if (!hexv(text, sizeof(text), &n, texthex)
        || !bc_ledger_entry_parse(&e, buf, (const char *) text, n, err, sizeof(err)))
    {
        return 0;
    }
    bc_hex_encode(h[0], e.prev, 32);
    bc_hex_encode(h[3], e.mac, 32);
    if (e.kind == BC_ENTRY_CREDIT) {
        char inv[33], spk[2 * BC_SPK_MAX + 1], att[129];

        bc_hex_encode(inv, e.invoice, 16);
        bc_hex_encode(spk, e.spk, e.spk_len);
        bc_hex_encode(att, e.att, 64);
        snprintf(out, sizeof(out), "credit\t%llu\t%llu\t%llu\t%llu\t%s\t%s\t%u\t%llu\t%u\t%llu"
                 "\t%s\t%s\t%s", (unsigned long long) e.seq, (unsigned long long) e.amount,
                 (unsigned long long) e.balance, (unsigned long long) e.time, h[0], inv,
                 (unsigned) e.network, (unsigned long long) e.received, (unsigned) e.conf,
                 (unsigned long long) e.paid_at, spk, att, h[3]);
    } else {
        char pur[33];

        bc_hex_encode(pur, e.purchase, 16);
        bc_hex_encode(h[1], (const unsigned char *) e.product, e.product_len);
        bc_hex_encode(h[2], (const unsigned char *) e.seller, e.seller_len);
        snprintf(out, sizeof(out), "debit\t%llu\t%llu\t%llu\t%llu\t%s\t%s\t%u\t%llu\t%s\t%s\t%s",
                 (unsigned long long) e.seq, (unsigned long long) e.amount,
                 (unsigned long long) e.balance, (unsigned long long) e.time, h[0], pur,
                 (unsigned) e.uses, (unsigned long long) e.expires, h[1], h[2], h[3]);
    }
    return 1;
}

static int
cmd_att(char **a)
{
    static unsigned char text[2 * BC_LEDGER_ENTRY_MAX], buf[2 * BC_LEDGER_ENTRY_MAX];
    unsigned char pub[32];
    char err[128];
    bc_ledger_entry e;
    size_t n;

    if (!hexn(pub, 32, a[1]) || !hexv(text, sizeof(text), &n, a[2])
        || !bc_ledger_entry_parse(&e, buf, (const char *) text, n, err, sizeof(err)))
    {
        return 0;
    }
    snprintf(out, sizeof(out), "%d", bc_ledger_credit_att_ok(&e, pub));
    return 1;
}

static int
run(char **a, size_t n)
{
    unsigned char b[BC_WALLET_SECRET_LEN], wid[BC_WALLET_ID_LEN];
    static unsigned char text[2 * BC_LEDGER_ENTRY_MAX], product[2048];
    char err[128];
    bc_keys keys;
    size_t len, plen;
    int r = 0;

    memset(&keys, 0, sizeof(keys));
    if (strcmp(a[0], "code") == 0 && n == 2) {
        if (!hexn(b, sizeof(b), a[1]) || !bc_wallet_id_of(wid, b)) {
            return 0;
        }
        bc_wallet_code_encode(out, b);
        len = strlen(out);
        out[len++] = '\t';
        bc_hex_encode(out + len, wid, sizeof(wid));
        return 1;
    }
    if (strcmp(a[0], "decode") == 0 && n == 2) {
        if (!hexv(text, sizeof(text), &len, a[1])
            || !bc_wallet_code_decode(b, (const char *) text, len, err, sizeof(err)))
        {
            return 0;
        }
        hex_out(b, sizeof(b));
        return 1;
    }
    if (strcmp(a[0], "parse") == 0 && n == 2) {
        return cmd_parse(a[1]);
    }
    if (strcmp(a[0], "att") == 0 && n == 3) {
        return cmd_att(a);
    }
    if (n < 3 || !keys_of(&keys, a[1])) {
        return 0;
    }
    a++;
    n--;
    if (strcmp(a[-1], "state") == 0 && n == 8) {
        bc_wallet_state s;
        uint64_t v;

        memset(&s, 0, sizeof(s));
        r = hexn(s.wid, 16, a[1]) && num(&v, a[2], 3) && (s.network = (uint8_t) v, 1)
            && num(&s.created, a[3], UINT64_MAX) && num(&s.seq, a[4], UINT64_MAX)
            && num(&s.balance, a[5], 2100000000000000ULL) && hexn(s.head, 32, a[6])
            && num(&s.max_auto, a[7], 2100000000000000ULL) && bc_wallet_state_mac(s.mac, &s, &keys);
        if (r) {
            hex_out(s.mac, 32);
        }
    } else if (strcmp(a[-1], "credit") == 0 && n == 13) {
        r = cmd_credit(a, &keys);
    } else if (strcmp(a[-1], "debit") == 0 && n == 12) {
        r = cmd_debit(a, &keys);
    } else if (strcmp(a[-1], "owned") == 0 && n == 7) {
        bc_wallet_owned o;
        uint64_t v;

        memset(&o, 0, sizeof(o));
        r = hexn(wid, 16, a[1]) && hexn(o.purchase, 16, a[2]) && num(&v, a[3], UINT32_MAX)
            && (o.uses = (uint32_t) v, num(&o.expires, a[4], UINT64_MAX))
            && num(&o.seq, a[5], UINT64_MAX) && hexv(product, sizeof(product), &plen, a[6])
            && bc_wallet_owned_encode(out, &o, wid, (const char *) product, plen, &keys) > 0;
    } else if (strcmp(a[-1], "ownparse") == 0 && n == 4) {
        bc_wallet_owned o;
        char mac[65], pur[33];

        r = hexn(wid, 16, a[1]) && hexv(product, sizeof(product), &plen, a[2])
            && bc_wallet_owned_parse(&o, a[3], strlen(a[3]), wid, (const char *) product, plen,
                                     &keys, err, sizeof(err));
        if (r) {
            bc_hex_encode(pur, o.purchase, 16);
            bc_hex_encode(mac, o.mac, 32);
            snprintf(out, sizeof(out), "%s\t%u\t%llu\t%llu\t%s", pur, (unsigned) o.uses,
                     (unsigned long long) o.expires, (unsigned long long) o.seq, mac);
        }
    } else if (strcmp(a[-1], "verify") == 0 && n == 3) {
        r = hexn(wid, 16, a[1]) && hexv(text, sizeof(text), &len, a[2]);
        if (r) {
            snprintf(out, sizeof(out), "%d",
                     bc_ledger_entry_ok((const char *) text, len, wid, &keys));
        }
    }
    bc_keys_clear(&keys);
    return r;
}

int
main(int argc, char **argv)
{
    static char line[LINE_MAX_];
    char *f[FIELDS_MAX], *p;
    size_t n;

    if (argc == 3 && strcmp(argv[1], "script") == 0) {
        fputs(strcmp(argv[2], "buy") == 0 ? bc_script_wallet_buy
              : strcmp(argv[2], "credit") == 0 ? bc_script_wallet_credit
              : bc_script_wallet_set, stdout);
        return 0;
    }
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        for (n = 0, p = line; n < FIELDS_MAX; n++) {
            f[n] = p;
            if ((p = strchr(p, '\t')) == NULL) {
                n++;
                break;
            }
            *p++ = '\0';
        }
        if (!run(f, n)) {
            strcpy(out, "error");
        }
        puts(out);
        fflush(stdout);
    }
    return 0;
}
