#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "secret.h"

int
parse_uint(uint64_t *out, const char *s, uint64_t max)
{
    uint64_t v = 0;

    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        uint64_t digit = (uint64_t) (*s - '0');

        if (!isdigit((unsigned char) *s) || v > max / 10
            || (v == max / 10 && digit > max % 10))
        {
            return 0;
        }
        v = v * 10 + digit;
    }
    *out = v;
    return 1;
}

int
parse_duration(uint64_t *out, const char *s)
{
    const uint64_t limit = 100ULL * 365 * 86400;   /* a century is enough */
    uint64_t total = 0, n, unit;
    int digits;

    if (*s == '\0') {
        return 0;
    }
    while (*s) {
        n = 0;
        for (digits = 0; isdigit((unsigned char) *s); s++, digits++) {
            if (n > limit) {
                return 0;
            }
            n = n * 10 + (uint64_t) (*s - '0');
        }
        if (digits == 0) {
            return 0;
        }
        switch (*s) {
        case '\0': unit = 1; break;
        case 's': unit = 1; s++; break;
        case 'm': unit = 60; s++; break;
        case 'h': unit = 3600; s++; break;
        case 'd': unit = 86400; s++; break;
        case 'w': unit = 7 * 86400; s++; break;
        default: return 0;
        }
        if (n > limit / unit || total + n * unit > limit) {
            return 0;
        }
        total += n * unit;
    }
    if (total == 0) {
        return 0;
    }
    *out = total;
    return 1;
}

char *
read_password_file(const char *path, char *err, size_t errlen)
{
    char buf[1025], *p;
    struct stat st;
    ssize_t n;
    size_t len;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & S_IRWXO) != 0) {
        close(fd);
        snprintf(err, errlen, "\"%s\" must be a regular file that others cannot read "
                 "(chmod 600 or 640)", path);
        return NULL;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    buf[n] = '\0';
    len = strcspn(buf, "\r\n");
    if (len == 0 || (size_t) n == sizeof(buf) - 1) {
        bc_wipe(buf, sizeof(buf));
        snprintf(err, errlen, "\"%s\" holds no password on its first line (or more than "
                 "1024 bytes)", path);
        return NULL;
    }
    buf[len] = '\0';
    p = strdup(buf);
    bc_wipe(buf, sizeof(buf));
    if (p == NULL) snprintf(err, errlen, "out of memory");
    return p;
}
