/* Building and reading the big-endian, length-prefixed messages that
 * docs/protocol.md lays out (offers, invoice MACs, attestations). */
#ifndef BITCACHE_BYTES_H
#define BITCACHE_BYTES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char *p;
    size_t len, cap;
    int overflow;           /* set once a put did not fit; later puts do nothing */
} bc_writer;

typedef struct {
    const unsigned char *p;
    size_t len, pos;
    int bad;                /* set once a get ran past the end */
} bc_reader;

void bc_writer_init(bc_writer *w, unsigned char *buf, size_t cap);
void bc_put_bytes(bc_writer *w, const void *data, size_t len);
void bc_put_uint(bc_writer *w, uint64_t v, int bytes);
/* u16 length, then the bytes; overflow if longer than 65535 */
void bc_put_lp(bc_writer *w, const void *data, size_t len);

void bc_reader_init(bc_reader *r, const unsigned char *buf, size_t len);
uint64_t bc_get_uint(bc_reader *r, int bytes);
/* points *data into the buffer */
size_t bc_get_lp(bc_reader *r, const unsigned char **data);
const unsigned char *bc_get_bytes(bc_reader *r, size_t len);

#endif
