/* Sealed files (docs/sealed.md): round trips at the sizes that matter,
 * every bit flip, cut, swap and append refused, seeking, the header
 * parser's bounds, and the key kept in Redis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "hex.h"
#include "sealed.h"
#include "sealkey.h"
#include "tap.h"

typedef struct {
    unsigned char *p;
    size_t len, cap;
} buf;

static int
buf_write(void *arg, const unsigned char *p, size_t n)
{
    buf *b = arg;

    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL) {
            return 0;
        }
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 1;
}

static unsigned char key[32], key2[32];

static void
header_for(bc_sealed_header *h, uint32_t chunk, const char *product)
{
    memset(h, 0, sizeof(*h));
    h->chunk_size = chunk;
    RAND_bytes(h->nonce, sizeof(h->nonce));
    h->host_len = strlen("https://files.example/bitcache");
    memcpy(h->host, "https://files.example/bitcache", h->host_len);
    h->product_len = strlen(product);
    memcpy(h->product, product, h->product_len);
    h->title_len = 4;
    memcpy(h->title, "Film", 4);
}

/* Seals pt in pieces of step bytes (0: one piece) into out. */
static int
seal(buf *out, const unsigned char *pt, size_t n, uint32_t chunk, size_t step,
    const char *product)
{
    bc_sealed_header h;
    bc_sealer *s;
    char err[200];
    size_t off = 0, take;
    int ok;

    header_for(&h, chunk, product);
    out->len = 0;
    s = bc_sealer_new(key, &h, buf_write, out, err, sizeof(err));
    if (s == NULL) {
        return 0;
    }
    ok = 1;
    do {
        take = step == 0 || n - off < step ? n - off : step;
        ok = ok && bc_sealer_update(s, pt + off, take, err, sizeof(err));
        off += take;
    } while (off < n);
    ok = ok && bc_sealer_finish(s, err, sizeof(err));
    bc_sealer_free(s);
    return ok;
}

/* Opens in[0..n) fed in pieces of step bytes; 1 if whole and verified. */
static int
open_with(const unsigned char *k, buf *out, const unsigned char *in, size_t n, size_t step,
    char *err, size_t errlen)
{
    bc_opener *o = bc_opener_new(k, buf_write, out);
    size_t off = 0, take;
    int ok = 1;

    out->len = 0;
    do {
        take = step == 0 || n - off < step ? n - off : step;
        ok = ok && bc_opener_update(o, in + off, take, err, errlen);
        off += take;
    } while (off < n);
    ok = ok && bc_opener_finish(o, err, errlen);
    bc_opener_free(o);
    return ok;
}

static int
opens(const unsigned char *in, size_t n)
{
    buf out = { 0 };
    char err[200];
    int ok = open_with(key, &out, in, n, 0, err, sizeof(err));

    free(out.p);
    return ok;
}

static size_t
header_len(const buf *b)
{
    bc_sealed_header h;
    size_t used = 0;
    char err[200];

    return bc_sealed_header_parse(&h, &used, b->p, b->len, err, sizeof(err)) == BC_SEALED_OK
           ? used : 0;
}

static void
round_trips(void)
{
    static const size_t chunk = 1024;
    const size_t sizes[] = { 0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 5 * chunk + 17 };
    const size_t steps[] = { 0, 1, 7, chunk, chunk + 16, 4096 };
    unsigned char *pt = malloc(1 << 20);
    buf sealed = { 0 }, out = { 0 };
    char err[200];
    size_t i, j, bad = 0, n;

    RAND_bytes(pt, 1 << 20);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        n = sizes[i];
        ok(seal(&sealed, pt, n, chunk, 0, "/films/a.mp4"), "seals %zu bytes", n);
        ok(sealed.len == header_len(&sealed) + n + 16 * (n / chunk + (n % chunk || n == 0)),
           "%zu bytes: header + size + 16 per chunk (%zu)", n, sealed.len);
        for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
            if (!open_with(key, &out, sealed.p, sealed.len, steps[j], err, sizeof(err))
                || out.len != n || (n && memcmp(out.p, pt, n) != 0))
            {
                diag("size %zu step %zu: %s", n, steps[j], err);
                bad++;
            }
        }
        ok(bad == 0, "%zu bytes open whole, fed in 6 ways", n);
    }
    for (i = 0; i < 40; i++) {
        uint32_t r;
        RAND_bytes((unsigned char *) &r, sizeof(r));
        n = r % (1 << 20);
        j = (r >> 20) % 5000 + 1;
        if (!seal(&sealed, pt, n, 1024 + (r % 7) * 1000, j, "/p")
            || !open_with(key, &out, sealed.p, sealed.len, (r >> 8) % 70000 + 1, err, sizeof(err))
            || out.len != n || (n && memcmp(out.p, pt, n) != 0))
        {
            bad++;
        }
    }
    ok(bad == 0, "40 random sizes, chunk sizes and pieces round trip");
    ok(seal(&sealed, pt, 3 * 65536 + 5, BC_SEALED_CHUNK_DEFAULT, 100000, "/p")
       && opens(sealed.p, sealed.len), "the default chunk size round trips");
    free(sealed.p);
    free(out.p);
    free(pt);
}

static void
refusals(void)
{
    unsigned char pt[3000], *m;
    buf sealed = { 0 }, other = { 0 }, out = { 0 };
    size_t i, n, hl, flips_ok = 0, cuts_ok = 0;
    char err[200];
    int bit;

    RAND_bytes(pt, sizeof(pt));
    ok(seal(&sealed, pt, sizeof(pt), 1024, 0, "/small"), "a 3-chunk file seals");
    n = sealed.len;
    m = malloc(n + 64);
    for (i = 0; i < n; i++) {
        for (bit = 0; bit < 8; bit++) {
            memcpy(m, sealed.p, n);
            m[i] ^= (unsigned char) (1 << bit);
            flips_ok += opens(m, n);
        }
    }
    ok(flips_ok == 0, "each of the %zu single-bit flips (header and body) is refused", 8 * n);
    for (i = 0; i < n; i++) {
        cuts_ok += opens(sealed.p, i);
    }
    ok(cuts_ok == 0, "each of the %zu truncations is refused", n);

    hl = header_len(&sealed);
    memcpy(m, sealed.p, n);
    memcpy(m + hl, sealed.p + hl + 1040, 1040);
    memcpy(m + hl + 1040, sealed.p + hl, 1040);
    ok(!open_with(key, &out, m, n, 0, err, sizeof(err)), "two chunks swapped are refused");
    is_str(err, "chunk 0 does not verify: the file is changed, reordered or cut",
           "the reason names the chunk");

    memcpy(m, sealed.p, n);
    for (i = 1; i <= 40; i += 13) {
        m[n + i - 1] = 0;
        ok(!opens(m, n + i), "%zu appended bytes are refused", i);
    }
    ok(!open_with(key, &out, sealed.p, n - (3000 - 2048) - 16, 0, err, sizeof(err)),
       "a file cut after whole chunks is refused");
    is_str(err, "chunk 1, the last, does not verify: the file is cut, changed or followed "
           "by other bytes", "cut: chunk 1 was not the last");

    /* another file of the same key, the same size: its header is refused */
    ok(seal(&other, pt, sizeof(pt), 1024, 0, "/small"), "a second sealing");
    memcpy(m, other.p, hl);
    memcpy(m + hl, sealed.p + hl, n - hl);
    ok(!opens(m, n), "a header from another sealing is refused");
    ok(!open_with(key2, &out, sealed.p, n, 0, err, sizeof(err)), "another key is refused");
    ok(strncmp(err, "the key is not this file's", 26) == 0, "the reason says so: %s", err);

    /* an empty last chunk after a full one: well-formed AEAD, not canonical */
    ok(seal(&other, pt, 1024, 1024, 0, "/x") && other.len == header_len(&other) + 1040,
       "1024 bytes in 1024-byte chunks is one last chunk");
    free(m);
    free(sealed.p);
    free(other.p);
    free(out.p);
}

static void
seeking(void)
{
    static const uint32_t chunk = 1024;
    unsigned char pt[10000], got[1024];
    buf sealed = { 0 };
    bc_sealed_header h;
    bc_sealed_cipher c;
    uint64_t off, i;
    size_t used, len, bad = 0;
    char err[200];
    int last;

    RAND_bytes(pt, sizeof(pt));
    ok(seal(&sealed, pt, sizeof(pt), chunk, 0, "/seek"), "sealed for seeking");
    ok(bc_sealed_header_parse(&h, &used, sealed.p, sealed.len, err, sizeof(err)) == BC_SEALED_OK,
       "its header parses");
    ok(bc_sealed_cipher_init(&c, key, &h, sealed.p, used), "cipher");
    for (i = 10; i-- > 0;) {
        if (!bc_sealed_chunk_at(sealed.len, used, chunk, i, &off, &len, &last)
            || off != used + i * (chunk + 16) || last != (i == 9)
            || !bc_sealed_chunk_open(&c, (uint32_t) i, last, sealed.p + off, len, got)
            || memcmp(got, pt + i * chunk, len - 16) != 0)
        {
            bad++;
        }
    }
    ok(bad == 0, "each chunk, read backwards, opens alone to its slice");
    ok(!bc_sealed_chunk_at(sealed.len, used, chunk, 10, &off, &len, &last), "no chunk 10");
    ok(!bc_sealed_chunk_open(&c, 3, 1, sealed.p + used + 3 * 1040, 1040, got),
       "chunk 3 marked last does not open");
    ok(!bc_sealed_chunk_at(used + 1040 + 16, used, chunk, 0, &off, &len, &last),
       "an empty last chunk after another is no layout");
    ok(!bc_sealed_chunk_at(used + 1040 + 15, used, chunk, 0, &off, &len, &last),
       "a last chunk under 16 bytes is no layout");
    ok(bc_sealed_chunk_at(used + 16, used, chunk, 0, &off, &len, &last) && last && len == 16,
       "an empty file is one empty last chunk");
    bc_sealed_cipher_free(&c);
    free(sealed.p);
}

static void
headers(void)
{
    unsigned char enc[BC_SEALED_HEADER_MAX + 8];
    bc_sealed_header h, p;
    size_t n, used, i, more = 0, bad = 0;
    char err[200];

    header_for(&h, 65536, "/films/über.mp4");
    n = bc_sealed_header_encode(enc, sizeof(enc), &h);
    ok(n == 38 + 2 + 30 + 2 + 16 + 2 + 4, "header is %zu bytes", n);
    ok(bc_sealed_header_parse(&p, &used, enc, n + 5, err, sizeof(err)) == BC_SEALED_OK
       && used == n && p.chunk_size == 65536 && p.product_len == h.product_len
       && memcmp(p.product, h.product, h.product_len) == 0, "parses back, stops at its end");
    for (i = 0; i < n; i++) {
        int rc = bc_sealed_header_parse(&p, &used, enc, i, err, sizeof(err));
        more += rc == BC_SEALED_MORE;
    }
    ok(more == n, "every prefix asks for more");
    ok(bc_sealed_header_parse(&p, &used, (const unsigned char *) "BCSEALEX", 8, err,
                              sizeof(err)) == BC_SEALED_BAD, "a wrong magic is refused");
    ok(bc_sealed_header_parse(&p, &used, (const unsigned char *) "PK", 2, err,
                              sizeof(err)) == BC_SEALED_BAD, "even a short one");

#define MUT(off, val, what) do {                                                    \
        unsigned char m_[sizeof(enc)];                                              \
        memcpy(m_, enc, n);                                                         \
        m_[off] = (val);                                                            \
        ok(bc_sealed_header_parse(&p, &used, m_, n, err, sizeof(err)) == BC_SEALED_BAD, \
           "%s refused: %s", what, err);                                            \
    } while (0)
    MUT(8, 2, "version 2");
    MUT(9, 2, "cipher 2");
    MUT(10, 0x01, "chunk size 16 MiB + 64 KiB");
    MUT(11, 0x00, "chunk size 0");
    MUT(38, 0x04, "a host longer than 1024");
    MUT(40, 'f', "a host not http(s)");
    MUT(40 + 29, ' ', "a space in the host");
    MUT(72, 0x0a, "a newline in the product");
    MUT(90, 0x7f, "DEL in the title");

    h.product_len = 0;
    ok(bc_sealed_header_encode(enc, sizeof(enc), &h) == 0, "no empty product is written");
    h.product_len = 1025;
    ok(bc_sealed_header_encode(enc, sizeof(enc), &h) == 0, "nor one of 1025 bytes");
    h.product_len = 1024;
    memset(h.product, 'p', 1024);
    h.host_len = 1024;
    memset(h.host + 30, 'h', 1024 - 30);
    h.title_len = 1024;
    memset(h.title, 't', 1024);
    n = bc_sealed_header_encode(enc, sizeof(enc), &h);
    ok(n == BC_SEALED_HEADER_MAX, "the longest header is BC_SEALED_HEADER_MAX");
    ok(bc_sealed_header_parse(&p, &used, enc, n, err, sizeof(err)) == BC_SEALED_OK,
       "and parses");
    for (i = 0; i < 3; i++) {
        h.chunk_size = i == 0 ? 1023 : i == 1 ? (16u << 20) + 1 : 0;
        bad += bc_sealed_header_encode(enc, sizeof(enc), &h) != 0;
    }
    ok(bad == 0, "chunk sizes 1023, 16 MiB + 1 and 0 are not written");
}

static void
sealkeys(void)
{
    unsigned char sk[32], id[16], id2[16], w[BC_SEALKEY_WRAPPED_LEN], back[32], w2[60];
    char rkey[BC_SEALKEY_KEY_MAX], err[100];
    bc_sealkey_write hw;
    bc_sealkey_record rec;
    size_t i, n, bad = 0;

    RAND_bytes(sk, 32);
    ok(bc_sealed_key_id(id, key) && bc_sealed_key_id(id2, key2) && memcmp(id, id2, 16) != 0,
       "key ids differ");
    ok(bc_sealkey_wrap(w, sk, (const unsigned char *) "/a", 2, id, key, NULL), "wraps");
    ok(bc_sealkey_unwrap(back, sk, (const unsigned char *) "/a", 2, id, w)
       && memcmp(back, key, 32) == 0, "unwraps to the key");
    ok(!bc_sealkey_unwrap(back, sk, (const unsigned char *) "/b", 2, id, w),
       "not as another product's");
    ok(!bc_sealkey_unwrap(back, sk, (const unsigned char *) "/a", 2, id2, w),
       "not under another id");
    ok(bc_sealkey_wrap(w2, sk, (const unsigned char *) "/a", 2, id2, key, NULL)
       && !bc_sealkey_unwrap(back, sk, (const unsigned char *) "/a", 2, id2, w2),
       "a key wrapped under an id not its own does not unwrap");
    for (i = 0; i < 8 * sizeof(w); i++) {
        memcpy(w2, w, sizeof(w));
        w2[i / 8] ^= (unsigned char) (1 << (i % 8));
        bad += bc_sealkey_unwrap(back, sk, (const unsigned char *) "/a", 2, id, w2);
    }
    ok(bad == 0, "each of the 480 bit flips of the wrapped key is refused");

    n = bc_sealkey_key(rkey, sizeof(rkey), "bitcache:", (const unsigned char *) "/a b", 4);
    is_str(rkey, "bitcache:sealkey:/a b", "the record's key");
    ok(n == strlen(rkey), "and its length");
    ok(bc_sealkey_key(rkey, sizeof(rkey), "", (const unsigned char *) "a\0b", 3) == 0,
       "no key for a product with a NUL");
    bc_sealkey_hset(&hw, rkey, n, id, w, 1767225600);
    ok(bc_sealkey_parse(&rec, hw.argv + 2, hw.argvlen + 2, 8, err, sizeof(err))
       && memcmp(rec.id, id, 16) == 0 && memcmp(rec.wrapped, w, sizeof(w)) == 0
       && rec.created == 1767225600, "the HSET's fields parse back");
    hw.argv[3] = "2";
    ok(!bc_sealkey_parse(&rec, hw.argv + 2, hw.argvlen + 2, 8, err, sizeof(err)), "v 2 refused");
    is_str(err, "v is not 1", "and why");
    hw.argv[3] = "1";
    hw.argvlen[7] = 118;
    ok(!bc_sealkey_parse(&rec, hw.argv + 2, hw.argvlen + 2, 8, err, sizeof(err)),
       "a short key refused");
    ok(!bc_sealkey_parse(&rec, hw.argv + 2, hw.argvlen + 2, 6, err, sizeof(err)),
       "a record without created refused");
}

/* BC_SCRIPT_KEY_FETCH's reply, as bc_keyfetch_parse reads it */
static void
keyfetches(void)
{
    static const char idhex[] = "24ecb62ef5958cad2dff221db9c3c75b";
    char wrapped[2 * BC_SEALKEY_WRAPPED_LEN + 1], err[128];
    const char *s[6];
    size_t len[6], i;
    bc_keyfetch f;

    memset(wrapped, 'a', sizeof(wrapped) - 1);
    wrapped[sizeof(wrapped) - 1] = '\0';

#define SET(n_, ...) do {                                               \
        const char *v_[] = { __VA_ARGS__ };                             \
        for (i = 0; i < (n_); i++) { s[i] = v_[i]; len[i] = strlen(v_[i]); } \
    } while (0)

    SET(5, "key", "3", "1", idhex, wrapped);
    ok(bc_keyfetch_parse(&f, s, len, 5, err, sizeof(err)) && f.status == BC_KEYFETCH_KEY
       && f.fetches == 3 && f.id[0] == 0x24 && f.id[15] == 0x5b && f.wrapped[0] == 0xaa
       && f.wrapped[BC_SEALKEY_WRAPPED_LEN - 1] == 0xaa, "a key: count, id and wrapped key");
    SET(1, "not_sealed");
    ok(bc_keyfetch_parse(&f, s, len, 1, err, sizeof(err)) && f.status == BC_KEYFETCH_NOT_SEALED,
       "not_sealed");
    SET(2, "unknown", idhex);
    ok(bc_keyfetch_parse(&f, s, len, 2, err, sizeof(err)) && f.status == BC_KEYFETCH_UNKNOWN
       && f.id[0] == 0x24, "unknown, with the id");
    SET(2, "revoked", idhex);
    ok(bc_keyfetch_parse(&f, s, len, 2, err, sizeof(err)) && f.status == BC_KEYFETCH_REVOKED,
       "revoked");
    SET(2, "used_up", idhex);
    ok(bc_keyfetch_parse(&f, s, len, 2, err, sizeof(err)) && f.status == BC_KEYFETCH_USED_UP,
       "used_up");
    is_str(bc_keyfetch_status_str(f.status), "downloads used up", "used_up's reason");
    SET(2, "revoked", "24ECB62EF5958CAD2DFF221DB9C3C75");
    ok(bc_keyfetch_parse(&f, s, len, 2, err, sizeof(err)) && f.status == BC_KEYFETCH_INVALID,
       "a refusal with a bad id: the record is invalid");

    /* the record's fields are a Redis writer's: invalid, never a key */
    SET(5, "key", "1", "2", idhex, wrapped);
    ok(bc_keyfetch_parse(&f, s, len, 5, err, sizeof(err)) && f.status == BC_KEYFETCH_INVALID,
       "v 2: invalid");
    SET(5, "key", "1", "", idhex, wrapped);
    ok(bc_keyfetch_parse(&f, s, len, 5, err, sizeof(err)) && f.status == BC_KEYFETCH_INVALID,
       "no v: invalid");
    SET(5, "key", "1", "1", "", wrapped);
    ok(bc_keyfetch_parse(&f, s, len, 5, err, sizeof(err)) && f.status == BC_KEYFETCH_INVALID,
       "no id: invalid");
    SET(5, "key", "1", "1", idhex, "abcd");
    ok(bc_keyfetch_parse(&f, s, len, 5, err, sizeof(err)) && f.status == BC_KEYFETCH_INVALID,
       "a short key: invalid");
    wrapped[7] = 'g';
    SET(5, "key", "1", "1", idhex, wrapped);
    ok(bc_keyfetch_parse(&f, s, len, 5, err, sizeof(err)) && f.status == BC_KEYFETCH_INVALID,
       "a key that is not hex: invalid");
    wrapped[7] = 'a';

    /* shapes the script never gives: refused (503) */
    SET(5, "key", "0", "1", idhex, wrapped);
    ok(!bc_keyfetch_parse(&f, s, len, 5, err, sizeof(err)), "a count of 0 refused");
    SET(5, "key", "-1", "1", idhex, wrapped);
    ok(!bc_keyfetch_parse(&f, s, len, 5, err, sizeof(err)), "a negative count refused");
    SET(5, "key", "01", "1", idhex, wrapped);
    ok(!bc_keyfetch_parse(&f, s, len, 5, err, sizeof(err)), "a leading zero refused");
    SET(5, "key", "18446744073709551616", "1", idhex, wrapped);
    ok(!bc_keyfetch_parse(&f, s, len, 5, err, sizeof(err)), "a count over 2^64 refused");
    SET(4, "key", "1", "1", idhex);
    ok(!bc_keyfetch_parse(&f, s, len, 4, err, sizeof(err)), "four elements refused");
    is_str(err, "not a reply of the key fetch script (4 elements)", "and why");
    SET(1, "unknown");
    ok(!bc_keyfetch_parse(&f, s, len, 1, err, sizeof(err)), "a refusal without an id refused");
    SET(2, "not_sealed", idhex);
    ok(!bc_keyfetch_parse(&f, s, len, 2, err, sizeof(err)), "not_sealed with more refused");
    SET(2, "Revoked", idhex);
    ok(!bc_keyfetch_parse(&f, s, len, 2, err, sizeof(err)), "an unknown word refused");
    ok(!bc_keyfetch_parse(&f, s, len, 0, err, sizeof(err)), "an empty reply refused");
    s[0] = "not_sealed";
    len[0] = 3;
    ok(!bc_keyfetch_parse(&f, s, len, 1, err, sizeof(err)), "a prefix of a word refused");
#undef SET
}

int
main(void)
{
    RAND_bytes(key, sizeof(key));
    RAND_bytes(key2, sizeof(key2));
    round_trips();
    refusals();
    seeking();
    headers();
    sealkeys();
    keyfetches();
    return done_testing();
}
