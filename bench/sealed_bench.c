/* Sealing and opening speed of libbitcache (bench/sealed.sh): a file read
 * into memory once, sealed in 1 MiB writes (as `bitcache seal` reads) to
 * a sink that only counts, then a sealed copy opened the same way, so
 * that the figure is the library's beside `openssl speed`'s raw
 * AES-256-GCM, which keeps no output either. Prints seal_mb_per_sec= and open_mb_per_sec= (10^6 bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "sealed.h"

typedef struct {
    unsigned char *p;
    size_t len, cap;
} sink;

static int
keep(void *arg, const unsigned char *p, size_t n)
{
    sink *s = arg;

    if (s->p != NULL && n <= s->cap - s->len) {
        memcpy(s->p + s->len, p, n);
    }
    s->len += n;
    return 1;
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0) return NULL;
    *len = (size_t) ftell(f);
    rewind(f);
    b = malloc(*len ? *len : 1);
    if (b == NULL || fread(b, 1, *len, f) != *len) return NULL;
    fclose(f);
    return b;
}

#define STEP (1 << 20)

/* Seals pt into out in STEP writes; the seconds it took, or -1. */
static double
seal(const unsigned char *key, const unsigned char *pt, size_t len, sink *out)
{
    bc_sealed_header h;
    bc_sealer *s;
    size_t off, take;
    char err[200];
    double t0 = now();

    memset(&h, 0, sizeof(h));
    h.chunk_size = BC_SEALED_CHUNK_DEFAULT;
    memcpy(h.host, "https://h.example/bitcache", h.host_len = 26);
    memcpy(h.product, "/bench", h.product_len = 6);
    s = bc_sealer_new(key, &h, keep, out, err, sizeof(err));
    for (off = 0; s != NULL && off < len; off += take) {
        take = len - off < STEP ? len - off : STEP;
        bc_sealer_update(s, pt + off, take, err, sizeof(err));
    }
    if (s == NULL || !bc_sealer_finish(s, err, sizeof(err))) {
        fprintf(stderr, "seal: %s\n", err);
        return -1;
    }
    bc_sealer_free(s);
    return now() - t0;
}

int
main(int argc, char **argv)
{
    unsigned char key[32], *pt;
    sink sealed = { 0 }, none = { 0 };
    bc_opener *o;
    size_t len, off, take;
    char err[200];
    double t0, ts, to;
    int ns, no;

    if (argc != 2 || (pt = slurp(argv[1], &len)) == NULL) {
        fprintf(stderr, "usage: sealed_bench FILE\n");
        return 2;
    }
    RAND_bytes(key, sizeof(key));
    sealed.cap = len + len / 1000 + 4096;
    sealed.p = malloc(sealed.cap);
    /* the copy to open, made untimed: the timed runs only count bytes out,
     * as openssl speed does */
    if (sealed.p == NULL || seal(key, pt, len, &sealed) < 0 || sealed.len > sealed.cap) {
        return 1;
    }
    /* each for 2 s at least, as long as openssl speed measures */
    for (ts = 0, ns = 0; ts < 2; ns++) {
        if ((t0 = seal(key, pt, len, &none)) < 0) {
            return 1;
        }
        ts += t0;
    }
    for (to = 0, no = 0; to < 2; no++) {
        t0 = now();
        none.len = 0;
        o = bc_opener_new(key, keep, &none);
        for (off = 0; off < sealed.len; off += take) {
            take = sealed.len - off < STEP ? sealed.len - off : STEP;
            bc_opener_update(o, sealed.p + off, take, err, sizeof(err));
        }
        if (!bc_opener_finish(o, err, sizeof(err)) || none.len != len) {
            fprintf(stderr, "open: %s\n", err);
            return 1;
        }
        to += now() - t0;
        bc_opener_free(o);
    }
    printf("seal_mb_per_sec=%.0f\nopen_mb_per_sec=%.0f\n", ns * len / ts / 1e6, no * len / to / 1e6);
    free(pt);
    free(sealed.p);
    return 0;
}
