/* The recovery code reader (bc_wallet_code_decode) on any bytes, as a
 * buyer types or a client sends them (cookie, Authorization, form).
 * Properties: a code that decodes is the code of its secret, spelt another
 * way only by case, spaces, tabs and dashes; every secret's code decodes
 * back to it; a refusal always says why. */
#include "fuzz.h"

#include "wallet_record.h"

/* the input without ' ', '\t', '-', in lower case */
static size_t
squeeze(char *out, const char *s, size_t n)
{
    size_t i, k = 0;

    for (i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '-') {
            out[k++] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] + 32) : s[i];
        }
    }
    return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char secret[BC_WALLET_SECRET_LEN], back[BC_WALLET_SECRET_LEN];
    char code[BC_WALLET_CODE_CHARS + 1], sq[FUZZ_MAX_INPUT], err[128];
    char *s = fuzz_string(data, size);
    size_t k;

    if (s == NULL) {
        return 0;
    }
    err[0] = '\0';
    if (bc_wallet_code_decode(secret, s, size, err, sizeof(err))) {
        FUZZ_ASSERT(size <= BC_WALLET_CODE_INPUT_MAX);
        bc_wallet_code_encode(code, secret);
        k = squeeze(sq, s, size);
        FUZZ_ASSERT(k == BC_WALLET_CODE_CHARS && memcmp(sq, code, k) == 0);
    } else {
        FUZZ_ASSERT(err[0] != '\0' && strlen(err) < sizeof(err));
    }

    /* the input's first 20 bytes as a secret: its code reads back */
    if (size >= BC_WALLET_SECRET_LEN) {
        bc_wallet_code_encode(code, data);
        FUZZ_ASSERT(strlen(code) == BC_WALLET_CODE_CHARS);
        FUZZ_ASSERT(bc_wallet_code_decode(back, code, BC_WALLET_CODE_CHARS, err, sizeof(err))
                    && memcmp(back, data, BC_WALLET_SECRET_LEN) == 0);
    }
    free(s);
    return 0;
}
