#include <openssl/evp.h>

#include "hex.h"
#include "redis_scripts.h"

int
bc_script_sha1(char out[41], const char *script, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    /* Redis names cached scripts by the SHA1 of their text (EVALSHA) */
    if (!EVP_Digest(script, len, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20) {
        return 0;
    }
    bc_hex_encode(out, md, 20);
    return 1;
}
