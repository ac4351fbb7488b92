#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api_request.h"
#include "escape.h"
#include "hex.h"
#include "http.h"
#include "open_host.h"
#include "sealed_url.h"

#define POLL_SECONDS    2

/* ---- the host's JSON (its strings reach the terminal by bc_log_text) --- */

static const char *
jstr(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* a member that must be a whole number of sats */
static int
jsats(json_t *o, const char *name, uint64_t *v)
{
    json_t *j = json_object_get(o, name);

    if (!json_is_integer(j) || json_integer_value(j) < 0) {
        return 0;
    }
    *v = (uint64_t) json_integer_value(j);
    return 1;
}

static json_t *
answer_json(const http_answer *a)
{
    json_t *j = json_loadb(a->body, a->len, JSON_REJECT_DUPLICATES, NULL);

    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* One line for an answer that is not the one hoped for. */
static void
status_error(open_host *o, const char *what, const http_answer *a, char *err, size_t errlen)
{
    json_t *j = answer_json(a);
    const char *e = j ? jstr(j, "error") : NULL, *r = j ? jstr(j, "reason") : NULL;
    char b1[256], b2[256], p[1024];

    bc_log_text(p, sizeof(p), o->h->product, o->h->product_len);
    if (a->status == 402) {
        snprintf(err, errlen, "%s: the host wants payment (402): %s", what,
                 r ? bc_log_text(b1, sizeof(b1), r, strlen(r)) : "no reason given");
    } else if (a->status == 404 && e && strcmp(e, "not_sealed") == 0) {
        snprintf(err, errlen, "%s: the host has no key for %s (404 not_sealed: never "
                 "sealed there, or its key was deleted); nothing paid", what, p);
    } else if (a->status == 404 && e && strcmp(e, "not_for_sale") == 0) {
        snprintf(err, errlen, "%s: the host does not sell %s (404 not_for_sale); "
                 "nothing paid", what, p);
    } else if (a->status == 409) {
        snprintf(err, errlen, "%s: the host's key record for %s is invalid (409 %s); "
                 "ask the host", what, p, e ? bc_log_text(b1, sizeof(b1), e, strlen(e)) : "");
    } else if (a->status == 503) {
        snprintf(err, errlen, "%s: the host is busy or its storage is down (503); "
                 "try again later", what);
    } else {
        snprintf(err, errlen, "%s: HTTP %ld from the host%s%s%s%s", what, a->status,
                 e || r ? ": " : "", e ? bc_log_text(b1, sizeof(b1), e, strlen(e)) : "",
                 e && r ? ", " : "", r ? bc_log_text(b2, sizeof(b2), r, strlen(r)) : "");
    }
    json_decref(j);
}

static int
request(open_host *o, const char *what, const char *method, const char *url,
    const char *json, const char *const *headers, http_answer *a, char *err, size_t errlen)
{
    char e[400];

    if (!http_request(method, url, json, headers, o->timeout_ms, a, e, sizeof(e))) {
        snprintf(err, errlen, "%s: %s", what, e);
        return 0;
    }
    return 1;
}

/* ---- the header's host ----------------------------------------------- */

int
open_host_init(open_host *o, const bc_sealed_header *h, char *err, size_t errlen)
{
    char e[200];

    o->h = h;
    if (!bc_sealed_urls(h, o->api, o->keys, e, sizeof(e))) {
        snprintf(err, errlen, "the file names no host that could sell its key: %s", e);
        return 0;
    }
    bc_hex_encode(o->id_hex, h->key_id, BC_SEALED_ID_LEN);
    return 1;
}

/* ---- the offer -------------------------------------------------------- */

json_t *
open_host_offer(open_host *o, char *err, size_t errlen)
{
    http_answer a;
    json_t *j;
    const char *id;
    char b[256];

    if (!request(o, "asking for the key", "GET", o->keys, NULL, NULL, &a, err, errlen)) {
        return NULL;
    }
    if (a.status != 402) {
        if (a.status == 200) {
            snprintf(err, errlen, "asking for the key: the host answered 200 to no "
                     "token; refused");
        } else {
            status_error(o, "asking for the key", &a, err, errlen);
        }
        http_free(&a);
        return NULL;
    }
    j = answer_json(&a);
    http_free(&a);
    if (j == NULL) {
        snprintf(err, errlen, "asking for the key: the host's 402 is not a JSON object");
        return NULL;
    }
    id = jstr(j, "key_id");
    if (id == NULL || strcmp(id, o->id_hex) != 0) {
        snprintf(err, errlen, "the host sells another key of this product (key id %s), "
                 "this copy was sealed with %s: it would not open, so nothing is paid; "
                 "get a copy sealed with the host's current key",
                 id ? bc_log_text(b, sizeof(b), id, strlen(id)) : "none", o->id_hex);
        json_decref(j);
        return NULL;
    }
    if (jstr(j, "offer") == NULL) {
        id = jstr(j, "reason");
        snprintf(err, errlen, "the host does not offer this product for sale%s%s",
                 id ? ": " : "", id ? bc_log_text(b, sizeof(b), id, strlen(id)) : "");
        json_decref(j);
        return NULL;
    }
    return j;
}

static int
take_token(json_t *j, char *token, char *err, size_t errlen, const char *what)
{
    const char *t = jstr(j, "token");
    size_t n = t ? strlen(t) : 0, i;

    for (i = 0; i < n; i++) {
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')
              || (t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '_'))
        {
            break;
        }
    }
    if (n == 0 || n > OPEN_TOKEN_MAX || i < n) {
        snprintf(err, errlen, "%s: the host's answer carries no token", what);
        return 0;
    }
    memcpy(token, t, n + 1);
    return 1;
}

/* ---- buying from a wallet -------------------------------------------- */

static void
wallet_refused(open_host *o, const http_answer *a, char *err, size_t errlen)
{
    json_t *j = answer_json(a);
    const char *e = j ? jstr(j, "error") : NULL;
    char b[256];

    if (a->status == 402) {
        snprintf(err, errlen, "buying from the wallet: the balance is too low (402)%s",
                 j && jstr(j, "topup_url") ? ": top it up on the host's wallet page" : "");
    } else if (a->status == 401 || a->status == 403) {
        snprintf(err, errlen, "buying from the wallet: the host refused it (%ld%s%s): "
                 "a wrong recovery code, or a frozen wallet", a->status, e ? " " : "",
                 e ? bc_log_text(b, sizeof(b), e, strlen(e)) : "");
    } else {
        status_error(o, "buying from the wallet", a, err, errlen);
    }
    json_decref(j);
}

int
open_host_wallet_buy(open_host *o, json_t *offer, const char *code, char *token,
    char *err, size_t errlen)
{
    unsigned char rnd[16];
    char idem[33], url[sizeof(o->api) + 16], *auth, *body;
    const char *headers[2];
    http_answer a;
    json_t *j;
    uint64_t price = 0, balance = 0;
    size_t alen;
    int ok = 0, have_balance;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        snprintf(err, errlen, "no random bytes");
        return 0;
    }
    bc_hex_encode(idem, rnd, sizeof(rnd));      /* the same purchase, once */
    snprintf(url, sizeof(url), "%s/wallet/buy", o->api);
    j = json_pack("{s:s,s:s}", "offer", jstr(offer, "offer"), "key", idem);
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    alen = strlen("Authorization: Bitcache ") + strlen(code) + 1;
    auth = malloc(alen);
    if (body == NULL || auth == NULL) {
        free(body);
        free(auth);
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    snprintf(auth, alen, "Authorization: Bitcache %s", code);
    headers[0] = auth;
    headers[1] = NULL;
    ok = request(o, "buying from the wallet", "POST", url, body, headers, &a, err, errlen);
    OPENSSL_cleanse(auth, alen);
    free(auth);
    free(body);
    if (!ok) {
        return 0;
    }
    ok = 0;
    j = a.status == 200 ? answer_json(&a) : NULL;
    if (j == NULL) {
        wallet_refused(o, &a, err, errlen);
        goto done;
    }
    if (!take_token(j, token, err, errlen, "buying from the wallet")) {
        goto done;
    }
    have_balance = jsats(j, "balance_sats", &balance);
    if (jstr(j, "state") && strcmp(jstr(j, "state"), "owned") == 0) {
        fprintf(stderr, "bitcache open: owned already: not charged again\n");
    } else if (jsats(j, "price_sats", &price)) {
        fprintf(stderr, "bitcache open: bought from the wallet for %llu sats%s",
                (unsigned long long) price, have_balance ? "" : "\n");
        if (have_balance) {
            fprintf(stderr, " (balance %llu sats)\n", (unsigned long long) balance);
        }
    }
    ok = 1;

done:
    json_decref(j);
    http_free(&a);
    return ok;
}

/* ---- a giveaway's free copy -------------------------------------------- */

int
open_host_free(open_host *o, json_t *offer, char *token, char *err, size_t errlen)
{
    char url[sizeof(o->api) + 16], *body;
    uint64_t left = 0, copy = 0;
    http_answer a;
    json_t *j;
    int r = -1;

    if (!jsats(offer, "free_left", &left) || left == 0) {
        return -1;                      /* no giveaway, or none left */
    }
    snprintf(url, sizeof(url), "%s/free", o->api);
    j = json_pack("{s:s}", "offer", jstr(offer, "offer"));
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (body == NULL) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    r = request(o, "claiming a free copy", "POST", url, body, NULL, &a, err, errlen);
    free(body);
    if (!r) {
        return 0;
    }
    j = a.status == 201 ? answer_json(&a) : NULL;
    if (j != NULL) {
        r = take_token(j, token, err, errlen, "claiming a free copy");
        if (r && jsats(j, "copy", &copy) && jsats(j, "free_left", &left)) {
            fprintf(stderr, "bitcache open: a free copy (number %llu; %llu left)\n",
                    (unsigned long long) copy, (unsigned long long) left);
        }
    } else if (a.status == 410 || a.status == 429) {
        fprintf(stderr, "bitcache open: no free copy (%s): buying it\n", a.status == 410
                ? "none left" : "one per address, taken already");
        r = -1;
    } else {
        status_error(o, "claiming a free copy", &a, err, errlen);
        r = 0;
    }
    json_decref(j);
    http_free(&a);
    return r;
}

/* ---- an invoice -------------------------------------------------------- */

static void
print_btc(char *out, size_t outlen, uint64_t sats)
{
    snprintf(out, outlen, "%llu.%08llu", (unsigned long long) (sats / 100000000),
             (unsigned long long) (sats % 100000000));
}

/* What to pay and how to resume: the claim is the buyer's own credential
 * (as the token printed at the end), shown once here and nowhere else. */
static void
print_invoice(open_host *o, const char *id, const char *claim, uint64_t sats,
    const char *address, const char *bip21, uint64_t wait)
{
    char title[1024], product[1024], btc[40], b1[256], b2[1024];

    bc_log_text(product, sizeof(product), o->h->product, o->h->product_len);
    if (o->h->title_len) {
        fprintf(stderr, "bitcache open: \"%s\" (%s) at %s\n",
                bc_log_text(title, sizeof(title), o->h->title, o->h->title_len),
                product, o->api);
    } else {
        fprintf(stderr, "bitcache open: %s at %s\n", product, o->api);
    }
    print_btc(btc, sizeof(btc), sats);
    fprintf(stderr, "bitcache open: pay %llu sats (%s BTC) to %s\n",
            (unsigned long long) sats, btc, bc_log_text(b1, sizeof(b1), address, strlen(address)));
    if (bip21) {
        fprintf(stderr, "bitcache open: %s\n", bc_log_text(b2, sizeof(b2), bip21, strlen(bip21)));
    }
    fprintf(stderr, "bitcache open: waiting up to %llu s; if stopped, resume with: "
            "bitcache open %s -o %s --invoice %s --claim %s --host %s\n",
            (unsigned long long) wait, o->file, o->out, id, claim, o->api);
}

static int
valid_id(const char *id)
{
    size_t i;

    for (i = 0; id[i]; i++) {
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) {
            return 0;
        }
    }
    return i == 32;
}

int
open_host_invoice(open_host *o, json_t *offer, uint64_t amount, uint64_t wait,
    char *token, char *err, size_t errlen)
{
    char url[sizeof(o->api) + 16], *body;
    const char *id, *claim, *address;
    uint64_t sats, price = 0;
    http_answer a;
    json_t *j, *req;
    int ok = 0;

    snprintf(url, sizeof(url), "%s/invoices", o->api);
    req = json_pack("{s:s}", "offer", jstr(offer, "offer"));
    if (req && amount) {
        json_object_set_new(req, "amount", json_integer((json_int_t) amount));
    }
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (body == NULL) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    ok = request(o, "creating an invoice", "POST", url, body, NULL, &a, err, errlen);
    free(body);
    if (!ok) {
        return 0;
    }
    ok = 0;
    j = a.status == 201 ? answer_json(&a) : NULL;
    if (j == NULL) {
        if (a.status == 201) {
            snprintf(err, errlen, "creating an invoice: the host's answer is not JSON");
        } else {
            status_error(o, "creating an invoice", &a, err, errlen);
        }
        goto done;
    }
    id = jstr(j, "id");
    claim = jstr(j, "claim");
    address = jstr(j, "address");
    if (id == NULL || !valid_id(id) || claim == NULL || strlen(claim) != 43
        || strspn(claim, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
           != 43
        || address == NULL || address[0] == '\0' || !jsats(j, "amount_sats", &sats))
    {
        snprintf(err, errlen, "creating an invoice: the host's answer lacks id, claim, "
                 "address or amount_sats");
        goto done;
    }
    /* the invoice must ask what the buyer agreed to: the amount asked for,
     * else the price the 402 showed */
    if ((amount && sats != amount)
        || (!amount && jsats(offer, "price_sats", &price) && sats != price))
    {
        snprintf(err, errlen, "creating an invoice: the host asks %llu sats, not the "
                 "%llu offered; not paying", (unsigned long long) sats,
                 (unsigned long long) (amount ? amount : price));
        goto done;
    }
    print_invoice(o, id, claim, sats, address, jstr(j, "bip21"), wait);
    ok = open_host_wait(o, id, claim, wait, token, err, errlen);

done:
    json_decref(j);
    http_free(&a);
    return ok;
}

/* One poll: 1 with the token, 0 with a final error, -1 to poll again
 * (after *pause seconds). */
static int
poll_once(open_host *o, const char *url, const char *const *headers, char *state,
    size_t statelen, long *pause, char *token, char *err, size_t errlen)
{
    http_answer a;
    json_t *j;
    const char *s;
    char e[400], b[64];
    int r = -1;

    *pause = POLL_SECONDS;
    if (!http_request("GET", url, NULL, headers, o->timeout_ms, &a, e, sizeof(e))) {
        if (strcmp(state, "unreachable") != 0) {
            fprintf(stderr, "bitcache open: %s; trying again\n", e);
            snprintf(state, statelen, "unreachable");
        }
        return -1;
    }
    if (a.status == 503) {
        *pause = a.retry_after > 0 ? a.retry_after : POLL_SECONDS;
        http_free(&a);
        return -1;
    }
    j = a.status == 200 ? answer_json(&a) : NULL;
    if (j == NULL) {
        status_error(o, "waiting for the payment", &a, err, errlen);
        http_free(&a);
        return 0;
    }
    s = jstr(j, "state");
    if (jstr(j, "token") != NULL) {
        r = take_token(j, token, err, errlen, "waiting for the payment");
    } else if (s && (strcmp(s, "expired") == 0 || strcmp(s, "invalid") == 0)) {
        snprintf(err, errlen, "the invoice is %s; nothing more to wait for", s);
        r = 0;
    } else if (s && strcmp(s, "paid") == 0 && json_is_false(json_object_get(j, "claimed"))) {
        snprintf(err, errlen, "the invoice is paid but the host does not take this claim");
        r = 0;
    } else if (s && strcmp(s, state) != 0) {
        snprintf(state, statelen, "%s", bc_log_text(b, sizeof(b), s, strlen(s)));
        fprintf(stderr, "bitcache open: invoice state: %s\n", state);
    }
    json_decref(j);
    http_free(&a);
    return r;
}

int
open_host_wait(open_host *o, const char *id, const char *claim, uint64_t wait,
    char *token, char *err, size_t errlen)
{
    char url[sizeof(o->api) + 64], hdr[sizeof(BC_CLAIM_HEADER) + 64], state[64] = "";
    const char *headers[2] = { hdr, NULL };
    time_t deadline = time(NULL) + (time_t) wait;
    long pause;
    int r;

    snprintf(url, sizeof(url), "%s/invoices/%s", o->api, id);
    snprintf(hdr, sizeof(hdr), BC_CLAIM_HEADER ": %s", claim);
    for (;;) {
        r = poll_once(o, url, headers, state, sizeof(state), &pause, token, err, errlen);
        if (r >= 0) {
            break;
        }
        if (time(NULL) + pause > deadline) {
            snprintf(err, errlen, "no payment settled within %llu s (resume with "
                     "--invoice %s and the claim)", (unsigned long long) wait, id);
            r = 0;
            break;
        }
        sleep((unsigned) pause);
    }
    OPENSSL_cleanse(hdr, sizeof(hdr));
    return r;
}

/* ---- the key ------------------------------------------------------------ */

int
open_host_key(open_host *o, const char *token, unsigned char key[BC_SEALED_KEY_LEN],
    char *err, size_t errlen)
{
    unsigned char id[BC_SEALED_ID_LEN];
    size_t n = strlen(o->keys) + strlen("?bitcache_token=") + strlen(token) + 1;
    char *url = malloc(n), b[256];
    const char *kid, *k;
    http_answer a;
    json_t *j = NULL;
    int ok = 0;

    if (url == NULL) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    snprintf(url, n, "%s?bitcache_token=%s", o->keys, token);
    ok = request(o, "fetching the key", "GET", url, NULL, NULL, &a, err, errlen);
    OPENSSL_cleanse(url, n);
    free(url);
    if (!ok) {
        return 0;
    }
    ok = 0;
    if (a.status == 402) {
        j = answer_json(&a);
        k = j ? jstr(j, "reason") : NULL;
        snprintf(err, errlen, "the host refused the token (402): %s",
                 k ? bc_log_text(b, sizeof(b), k, strlen(k)) : "no reason given");
        goto done;
    }
    if (a.status != 200 || (j = answer_json(&a)) == NULL) {
        status_error(o, "fetching the key", &a, err, errlen);
        goto done;
    }
    kid = jstr(j, "key_id");
    k = jstr(j, "key");
    if (kid == NULL || strcmp(kid, o->id_hex) != 0) {
        snprintf(err, errlen, "the host's key (id %s) is not this copy's (%s)",
                 kid ? bc_log_text(b, sizeof(b), kid, strlen(kid)) : "none", o->id_hex);
        goto done;
    }
    if (k == NULL || strlen(k) != 2 * BC_SEALED_KEY_LEN
        || !bc_hex_decode(key, BC_SEALED_KEY_LEN, k, 2 * BC_SEALED_KEY_LEN)
        || !bc_sealed_key_id(id, key)
        || CRYPTO_memcmp(id, o->h->key_id, sizeof(id)) != 0)
    {
        OPENSSL_cleanse(key, BC_SEALED_KEY_LEN);
        snprintf(err, errlen, "the host sent a key that is not this copy's "
                 "(its id is not %s)", o->id_hex);
        goto done;
    }
    ok = 1;

done:
    if (a.body) {
        OPENSSL_cleanse(a.body, a.len);
    }
    json_decref(j);             /* jansson's copy of the key: freed, not wiped */
    http_free(&a);
    return ok;
}
