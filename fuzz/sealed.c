/* Sealed files (docs/sealed.md) as anyone's copy gives them. The first
 * byte picks what the rest is:
 *   0: bytes for the header parser: what parses lies inside the input and
 *      re-encodes to exactly the bytes it was read from; a prefix of a
 *      header asks for more, nothing longer than the longest header does;
 *   1: a file for the opener (fixed key), fed in pieces the input sizes:
 *      no crash, nothing written that is not a verified chunk's;
 *   2: plaintext (the input repeated up to 8 times, so that `make fuzz`'s
 *      1024-byte inputs still make several chunks), sealed with the fixed
 *      key in 1024-byte chunks, changed at one place the input chooses (one
 *      bit flipped, cut, bytes appended): the copy opens to the plaintext,
 *      the changed one never opens. */
#include "fuzz.h"

#include "sealed.h"

static const unsigned char key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

typedef struct {
    unsigned char *p;
    size_t len, cap;
} sink;

static int
to_sink(void *arg, const unsigned char *p, size_t n)
{
    sink *s = arg;

    if (n > s->cap - s->len) {
        return 0;
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    return 1;
}

static void
header_case(const uint8_t *data, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1), enc[BC_SEALED_HEADER_MAX];
    bc_sealed_header h;
    size_t used = 0;
    char err[200];
    int rc;

    memcpy(copy, data, size);
    rc = bc_sealed_header_parse(&h, &used, copy, size, err, sizeof(err));
    if (rc == BC_SEALED_OK) {
        FUZZ_ASSERT(used <= size && used <= BC_SEALED_HEADER_MAX);
        FUZZ_ASSERT(bc_sealed_header_encode(enc, sizeof(enc), &h) == used);
        FUZZ_ASSERT(memcmp(enc, copy, used) == 0);
    } else if (rc == BC_SEALED_MORE) {
        FUZZ_ASSERT(size < BC_SEALED_HEADER_MAX);
    } else {
        FUZZ_ASSERT(rc == BC_SEALED_BAD && err[0] != '\0');
    }
    free(copy);
}

/* Opens in[0..n) in pieces of step bytes into out; 1 if whole. */
static int
open_all(const unsigned char *in, size_t n, size_t step, sink *out)
{
    bc_opener *o = bc_opener_new(key, to_sink, out);
    char err[200];
    size_t off = 0, take;
    int ok = 1;

    do {
        take = n - off < step ? n - off : step;
        ok = ok && bc_opener_update(o, in + off, take, err, sizeof(err));
        off += take;
    } while (off < n);
    ok = ok && bc_opener_finish(o, err, sizeof(err));
    bc_opener_free(o);
    return ok;
}

static void
opener_case(const uint8_t *data, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1), *out = malloc(size ? size : 1);
    sink s = { out, 0, size };
    size_t step = size ? (size_t) data[0] % 97 + 1 : 1;

    memcpy(copy, data, size);
    /* a file that opens has at least one tag per chunk beyond its plaintext */
    if (open_all(copy, size, step, &s)) {
        FUZZ_ASSERT(s.len + 16 + BC_SEALED_FIXED_LEN <= size);
    }
    free(copy);
    free(out);
}

static void
mutation_case(const uint8_t *data, size_t size)
{
    unsigned char *pt, *file, *out;
    sink sealed, back;
    bc_sealed_header h;
    bc_sealer *s;
    unsigned pos, what, reps, i;
    size_t n;
    char err[200];

    if (size < 4) {
        return;
    }
    pos = (unsigned) data[0] << 8 | data[1];
    what = data[2];
    reps = data[3] % 8 + 1;
    data += 4;
    size -= 4;
    n = size * reps;
    pt = malloc(n + 1);
    file = malloc(2 * n + 4096);
    out = malloc(n + 1);
    for (i = 0; i < reps; i++) {
        memcpy(pt + i * size, data, size);
    }
    sealed = (sink) { file, 0, 2 * n + 4096 };
    back = (sink) { out, 0, n + 1 };
    memset(&h, 0, sizeof(h));
    h.chunk_size = 1024;
    memcpy(h.host, "https://h.example", 17);
    h.host_len = 17;
    h.product[0] = 'p';
    h.product_len = 1;
    s = bc_sealer_new(key, &h, to_sink, &sealed, err, sizeof(err));
    FUZZ_ASSERT(s != NULL && bc_sealer_update(s, pt, n, err, sizeof(err))
                && bc_sealer_finish(s, err, sizeof(err)));
    bc_sealer_free(s);
    FUZZ_ASSERT(open_all(file, sealed.len, what % 200 + 1, &back));
    FUZZ_ASSERT(back.len == n && memcmp(out, pt, n) == 0);

    pos %= sealed.len;
    back.len = 0;
    if (what % 3 == 0) {
        file[pos] ^= (unsigned char) (1 << (what / 3 % 8));
        FUZZ_ASSERT(!open_all(file, sealed.len, 1024, &back));
    } else if (what % 3 == 1) {
        FUZZ_ASSERT(!open_all(file, pos, 1024, &back));
    } else {
        memset(file + sealed.len, what, pos % 64 + 1);
        FUZZ_ASSERT(!open_all(file, sealed.len + pos % 64 + 1, 1024, &back));
    }
    free(pt);
    free(file);
    free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 8192) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0: header_case(data + 1, size - 1); break;
    case 1: opener_case(data + 1, size - 1); break;
    default: mutation_case(data + 1, size - 1); break;
    }
    return 0;
}
