#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seal_io.h"

/* 16 default chunks a read: most chunks go straight from this buffer */
#define READ_BLOCK (1 << 20)

int
seal_out_create(seal_out *o, const char *path, char *err, size_t errlen)
{
    mode_t um;

    o->path = path;
    o->bytes = 0;
    if ((size_t) snprintf(o->tmp, sizeof(o->tmp), "%s.XXXXXX", path) >= sizeof(o->tmp)) {
        snprintf(err, errlen, "the path is too long");
        return 0;
    }
    o->fd = mkstemp(o->tmp);
    if (o->fd < 0) {
        snprintf(err, errlen, "cannot create \"%s\": %s", o->tmp, strerror(errno));
        return 0;
    }
    /* mkstemp makes 0600; a sealed file is meant to be shared */
    um = umask(0);
    umask(um);
    fchmod(o->fd, 0644 & ~um);
    return 1;
}

int
seal_out_write(void *arg, const unsigned char *p, size_t n)
{
    seal_out *o = arg;
    ssize_t w;

    while (n > 0) {
        w = write(o->fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return 0;
        }
        p += w;
        n -= (size_t) w;
        o->bytes += (uint64_t) w;
    }
    return 1;
}

int
seal_out_end(seal_out *o, int keep, char *err, size_t errlen)
{
    int ok = close(o->fd) == 0;

    if (keep && ok && rename(o->tmp, o->path) == 0) {
        return 1;
    }
    if (keep) {
        snprintf(err, errlen, "cannot write \"%s\": %s", o->path, strerror(errno));
    }
    unlink(o->tmp);
    return 0;
}

int
seal_read_fd(int fd, const char *path, seal_feed feed, void *arg, uint64_t *total,
    char *err, size_t errlen)
{
    unsigned char *b = malloc(READ_BLOCK);
    ssize_t n;
    int ok = 0;

    if (b == NULL) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    for (;;) {
        n = read(fd, b, READ_BLOCK);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
            goto done;
        }
        if (n == 0) {
            break;
        }
        *total += (uint64_t) n;
        if (!feed(arg, b, (size_t) n, err, errlen)) {
            goto done;
        }
    }
    ok = 1;

done:
    free(b);
    return ok;
}

int
seal_read_all(const char *path, seal_feed feed, void *arg, uint64_t *total,
    char *err, size_t errlen)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    int ok;

    *total = 0;
    if (fd < 0) {
        snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
        return 0;
    }
    ok = seal_read_fd(fd, path, feed, arg, total, err, errlen);
    if (fd > 0) {
        close(fd);
    }
    return ok;
}
