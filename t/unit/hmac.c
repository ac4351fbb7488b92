/* Precomputed-pad HMAC-SHA256 against RFC 4231 and against OpenSSL's
 * one-shot HMAC() on random keys and messages of every length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "hex.h"
#include "hmac.h"
#include "tap.h"

int
main(void)
{
    static char line[4096];
    unsigned char key[200], msg[300], mac[32], ref[32];
    char hex[65], *kh, *dh, *mh, *save;
    unsigned int reflen;
    size_t klen, mlen, bad = 0;
    bc_hmac_key *k;
    FILE *in = fopen("t/vectors/hmac-sha256.tsv", "r");
    int n = 0;

    ok(in != NULL, "t/vectors/hmac-sha256.tsv opens");
    while (in && fgets(line, sizeof(line), in)) {
        if (line[0] == '#') continue;
        line[strcspn(line, "\n")] = '\0';
        kh = strtok_r(line, "\t", &save);
        dh = strtok_r(NULL, "\t", &save);
        mh = strtok_r(NULL, "\t", &save);
        klen = strlen(kh) / 2;
        mlen = strlen(dh) / 2;
        ok(bc_hex_decode(key, klen, kh, 2 * klen) && bc_hex_decode(msg, mlen, dh, 2 * mlen),
           "RFC 4231 case %d decodes", n + 1);
        k = bc_hmac_key_new(key, klen);
        ok(k && bc_hmac_sha256(mac, k, msg, mlen), "computes");
        bc_hex_encode(hex, mac, 32);
        is_str(hex, mh, "RFC 4231 case %d (key %zu bytes)", n + 1, klen);
        bc_hmac_key_free(k);
        n++;
    }
    if (in) fclose(in);
    ok(n == 3, "3 cases");

    for (klen = 0; klen <= 150; klen += 5) {
        RAND_bytes(key, (int) sizeof(key));
        k = bc_hmac_key_new(key, klen);
        for (mlen = 0; mlen <= 300; mlen += 7) {
            RAND_bytes(msg, (int) mlen + 1);
            bc_hmac_sha256(mac, k, msg, mlen);
            HMAC(EVP_sha256(), key, (int) klen, msg, mlen, ref, &reflen);
            bad += memcmp(mac, ref, 32) != 0;
        }
        bc_hmac_key_free(k);
    }
    ok(bad == 0, "equal to OpenSSL HMAC() for 31 key lengths x 43 message lengths");

    return done_testing();
}
