/* Test tool: libbitcache's giveaway pieces (giveaway.h, invoice.h) for
 * t/89-giveaway-script.t:
 *
 *   giveaway_tool script claim|create     the Lua script's text
 *   giveaway_tool hash SECRETHEX PRODUCT ADDRHEX   bc_free_address_hash
 *   giveaway_tool token SECRETHEX PRODUCT N        bc_free_token_id, hex
 *
 * Exits 1 when refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "giveaway.h"
#include "hex.h"
#include "invoice.h"

static int
keys_of(bc_keys *keys, const char *hex)
{
    unsigned char secret[128];
    size_t n = strlen(hex) / 2;

    return strlen(hex) % 2 == 0 && n >= 32 && n <= sizeof(secret)
           && bc_hex_decode(secret, n, hex, 2 * n) && bc_keys_derive(keys, secret, n);
}

int
main(int argc, char **argv)
{
    unsigned char addr[64], tid[16];
    char out[33];
    bc_keys keys;
    size_t alen;
    int ok = 0;

    if (argc == 3 && strcmp(argv[1], "script") == 0) {
        fputs(strcmp(argv[2], "claim") == 0 ? bc_script_free_claim : bc_script_token_create_new,
              stdout);
        return 0;
    }
    if (argc != 5 || !keys_of(&keys, argv[2])) {
        fprintf(stderr, "usage: giveaway_tool script claim|create | hash SECRETHEX PRODUCT ADDRHEX"
                " | token SECRETHEX PRODUCT N\n");
        return 2;
    }
    if (strcmp(argv[1], "hash") == 0) {
        alen = strlen(argv[4]) / 2;
        ok = strlen(argv[4]) % 2 == 0 && alen <= sizeof(addr)
             && bc_hex_decode(addr, alen, argv[4], 2 * alen)
             && bc_free_address_hash(out, argv[3], strlen(argv[3]), addr, alen, &keys);
    } else if (strcmp(argv[1], "token") == 0) {
        ok = bc_free_token_id(tid, argv[3], strlen(argv[3]), strtoull(argv[4], NULL, 10), &keys);
        if (ok) bc_hex_encode(out, tid, 16);
    }
    bc_keys_clear(&keys);
    if (!ok) {
        return 1;
    }
    puts(out);
    return 0;
}
