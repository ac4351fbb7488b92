/* The Range arithmetic (libbitcache/range.c): no crash, and whatever the
 * header, the plan never sends more than the file, nor more ranges than
 * allowed. The first 9 bytes choose the file's size and max_ranges. */
#include "fuzz.h"

#include "range.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bc_range_plan p, again;
    uint64_t u = 0;
    int64_t fsize;
    uint32_t max;
    char *hdr;
    size_t i;

    if (size < 9) {
        return 0;
    }
    for (i = 0; i < 8; i++) {
        u = (u << 8) | data[i];
    }
    fsize = (int64_t) (u & INT64_MAX);
    if (data[0] & 0x80) {
        fsize %= 100000;            /* small files half the time */
    }
    max = data[8] == 0xff ? UINT32_MAX : data[8] % 8;

    if ((hdr = fuzz_string(data + 9, size - 9)) == NULL) {
        return 0;
    }
    bc_range_plan_get(&p, hdr, size - 9, fsize, max);

    FUZZ_ASSERT(p.status == 200 || p.status == 206 || p.status == 416);
    FUZZ_ASSERT(p.bytes >= 0 && p.bytes <= fsize);
    if (p.status == 200) {
        FUZZ_ASSERT(p.parts == 1 && p.bytes == fsize && p.start == 0);
    } else if (p.status == 206) {
        FUZZ_ASSERT(p.parts >= 1 && p.parts <= max && p.bytes > 0);
        /* one part lies inside the file */
        FUZZ_ASSERT(p.parts == 1 ? p.start >= 0 && p.start + p.bytes <= fsize
                                 : p.start == -1);
    } else {
        FUZZ_ASSERT(p.parts == 0 && p.bytes == 0 && p.start == -1);
    }

    /* the header ends at its first NUL, as in nginx */
    bc_range_plan_get(&again, hdr, strlen(hdr), fsize, max);
    FUZZ_ASSERT(again.status == p.status && again.parts == p.parts
                && again.bytes == p.bytes && again.start == p.start);
    free(hdr);
    return 0;
}
