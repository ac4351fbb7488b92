/* Files for `bitcache seal` and `bitcache open`: the output goes to a
 * temporary file beside it and is renamed only once whole, so that a
 * refused or failed run leaves no partial file under the name asked for. */
#ifndef BITCACHE_CLI_SEAL_IO_H
#define BITCACHE_CLI_SEAL_IO_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int         fd;
    const char *path;           /* the name asked for */
    char        tmp[4096];      /* path.XXXXXX while being written */
    uint64_t    bytes;          /* written so far */
} seal_out;

/* Creates the temporary file (mode 0644 less the umask). Returns 1, or 0
 * with the reason in err. */
int seal_out_create(seal_out *o, const char *path, char *err, size_t errlen);

/* A bc_sealed_write callback: arg is a seal_out. */
int seal_out_write(void *arg, const unsigned char *p, size_t n);

/* Closes and renames to the name asked for (1), or removes it (0 given). */
int seal_out_end(seal_out *o, int keep, char *err, size_t errlen);

/* Reads path (or stdin for "-") in large blocks into feed(arg, ...) until
 * the end; returns 1, or 0 with the reason (feed's own, or the read's). */
typedef int (*seal_feed)(void *arg, const unsigned char *p, size_t n, char *err, size_t errlen);
int seal_read_all(const char *path, seal_feed feed, void *arg, uint64_t *total,
    char *err, size_t errlen);

/* The same from an open descriptor (path only names it in errors);
 * *total grows by the bytes read. */
int seal_read_fd(int fd, const char *path, seal_feed feed, void *arg, uint64_t *total,
    char *err, size_t errlen);

#endif
