/* bitcache open: decrypt a sealed file. The key comes from the host the
 * file names (docs/sealed.md, "The commands"): with a token, bought from
 * a Bitcache wallet, or through an invoice paid from any wallet; or, for
 * tests and support, from --key. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "args.h"
#include "commands.h"
#include "hex.h"
#include "open_host.h"
#include "seal_io.h"
#include "sealed.h"

#define WAIT_DEFAULT    3600
#define WAIT_MAX        (30 * 86400)
#define CODE_MAX        512                 /* a recovery code's line */

static const char usage[] =
    "usage: bitcache open FILE -o OUT [--key HEX | --token T | --wallet-secret CODE|@FILE]\n"
    "                     [--amount SATS] [--invoice ID --claim C] [--wait SECONDS]\n"
    "                     [--host URL]   (required with --token, --wallet-secret, --invoice)";

typedef struct {
    const char *in, *out, *key, *token, *wallet, *invoice, *claim, *host;
    uint64_t    amount, wait;
} open_args;

/* The copy being opened: its descriptor and the bytes read to find the
 * header (fed to the opener first). */
typedef struct {
    int                 fd;
    bc_sealed_header    h;
    unsigned char       buf[BC_SEALED_HEADER_MAX];
    size_t              len;
} open_copy;

static int
b64url_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    return n > 0 && n <= max
           && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
              == n;
}

static int
hex_id_ok(const char *s)
{
    return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

/* 1, or an exit status through usage_error. */
static int
parse_args(open_args *a, int argc, char **argv, int *rc)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "key", required_argument, NULL, 'k' },
        { "token", required_argument, NULL, 't' },
        { "wallet-secret", required_argument, NULL, 'W' },
        { "amount", required_argument, NULL, 'a' },
        { "invoice", required_argument, NULL, 'i' },
        { "claim", required_argument, NULL, 'c' },
        { "wait", required_argument, NULL, 'w' },
        { "host", required_argument, NULL, 'H' },
        { NULL, 0, NULL, 0 }
    };
    const char *wait = NULL, *amount = NULL;
    int ch;

    memset(a, 0, sizeof(*a));
    a->wait = WAIT_DEFAULT;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': a->out = optarg; break;
        case 'k': a->key = optarg; break;
        case 't': a->token = optarg; break;
        case 'W': a->wallet = optarg; break;
        case 'a': amount = optarg; break;
        case 'i': a->invoice = optarg; break;
        case 'c': a->claim = optarg; break;
        case 'w': wait = optarg; break;
        case 'H': a->host = optarg; break;
        default:
            *rc = usage_error("open", "unknown or incomplete option \"%s\"\n%s",
                              argv[optind - 1], usage);
            return 0;
        }
    }
#define REFUSE(...) do { *rc = usage_error("open", __VA_ARGS__); return 0; } while (0)
    if (optind != argc - 1) {
        REFUSE("exactly one FILE is needed\n%s", usage);
    }
    a->in = argv[optind];
    if (a->out == NULL) {
        REFUSE("-o OUT is required\n%s", usage);
    }
    if ((a->key != NULL) + (a->token != NULL) + (a->wallet != NULL)
        + (a->invoice != NULL || a->claim != NULL) > 1)
    {
        REFUSE("--key, --token, --wallet-secret and --invoice/--claim are each a way "
               "to the key: give one\n%s", usage);
    }
    if ((a->invoice == NULL) != (a->claim == NULL)) {
        REFUSE("--invoice and --claim go together (both are printed when an invoice "
               "is made)");
    }
    if (a->invoice && !hex_id_ok(a->invoice)) {
        REFUSE("--invoice: not an invoice id (32 lower-case hex digits)");
    }
    if (a->claim && !(strlen(a->claim) == 43 && b64url_ok(a->claim, 43))) {
        REFUSE("--claim: not a claim (43 characters of A-Z a-z 0-9 - _)");
    }
    if (a->token && !b64url_ok(a->token, OPEN_TOKEN_MAX)) {
        REFUSE("--token: not a token (A-Z a-z 0-9 - _, at most %u characters)",
               (unsigned) OPEN_TOKEN_MAX);
    }
    if (a->wallet && a->wallet[0] == '\0') {
        REFUSE("--wallet-secret: empty (a recovery code, or @FILE)");
    }
    if (amount && (a->key || a->token || a->wallet || a->invoice)) {
        REFUSE("--amount is for a new invoice only (not with --key, --token, "
               "--wallet-secret or --invoice)");
    }
    if (amount && (!parse_uint(&a->amount, amount, 2100000000000000ULL) || a->amount == 0)) {
        REFUSE("--amount: not a number of sats (1 to 2100000000000000)");
    }
    if (wait && (a->key || a->token || a->wallet)) {
        REFUSE("--wait is for an invoice only");
    }
    if (wait && !parse_uint(&a->wait, wait, WAIT_MAX) && !parse_duration(&a->wait, wait)) {
        REFUSE("--wait: not a number of seconds (0 to %u)", (unsigned) WAIT_MAX);
    }
    if (a->wait > WAIT_MAX) {
        REFUSE("--wait: at most %u s", (unsigned) WAIT_MAX);
    }
    /* a credential goes only to the host it belongs to: the copy names its
     * host, and a crafted copy could name any */
    if ((a->token || a->wallet || a->invoice) && a->host == NULL) {
        REFUSE("--host URL is required with --token, --wallet-secret and --invoice: "
               "they go only to the host you bought from (the copy names a host, "
               "and anyone can make a copy name theirs)");
    }
    if (a->host && a->key) {
        REFUSE("--host is for opening through the host, not with --key");
    }
#undef REFUSE
    return 1;
}

/* --host names the header's host: byte for byte, a trailing '/' on
 * either side ignored. */
static int
same_host(const char *given, const char *host, size_t len)
{
    size_t n = strlen(given);

    if (n > 0 && given[n - 1] == '/') {
        n--;
    }
    if (len > 0 && host[len - 1] == '/') {
        len--;
    }
    return n == len && memcmp(given, host, n) == 0;
}

/* Reads up to the header's end; the bytes stay in c->buf for the opener. */
static int
read_header(open_copy *c, const char *path, char *err, size_t errlen)
{
    size_t used;
    ssize_t n;
    int r = BC_SEALED_MORE;

    c->fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0) {
        snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
        return 0;
    }
    c->len = 0;
    while (r == BC_SEALED_MORE && c->len < sizeof(c->buf)) {
        n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
            return 0;
        }
        if (n == 0) {
            snprintf(err, errlen, "%s: not a sealed file (it ends inside the header)", path);
            return 0;
        }
        c->len += (size_t) n;
        r = bc_sealed_header_parse(&c->h, &used, c->buf, c->len, err, errlen);
    }
    return r == BC_SEALED_OK;
}

static int
feed(void *arg, const unsigned char *p, size_t n, char *err, size_t errlen)
{
    return bc_opener_update(arg, p, n, err, errlen);
}

/* Decrypts the copy into out; 1, or an error printed and 0. */
static int
decrypt(open_copy *c, const open_args *a, const unsigned char key[BC_SEALED_KEY_LEN])
{
    char err[300];
    uint64_t total = c->len;
    bc_opener *o;
    seal_out so;
    int ok;

    if (!seal_out_create(&so, a->out, err, sizeof(err))) {
        run_error("open", "-o: %s", err);
        return 0;
    }
    o = bc_opener_new(key, seal_out_write, &so);
    ok = o != NULL && bc_opener_update(o, c->buf, c->len, err, sizeof(err))
         && seal_read_fd(c->fd, a->in, feed, o, &total, err, sizeof(err))
         && bc_opener_finish(o, err, sizeof(err));
    if (o == NULL) {
        snprintf(err, sizeof(err), "out of memory");
    }
    bc_opener_free(o);
    if (!ok) {
        seal_out_end(&so, 0, NULL, 0);
        run_error("open", "%s: refused, nothing written: %s", a->in, err);
        return 0;
    }
    if (!seal_out_end(&so, 1, err, sizeof(err))) {
        run_error("open", "%s", err);
        return 0;
    }
    printf("%s\t%llu\t%.*s\n", a->out, (unsigned long long) so.bytes,
           (int) c->h.product_len, (const char *) c->h.product);
    return 1;
}

/* The recovery code: the argument, or @FILE's first line; printable
 * ASCII only, as it goes into a header line. */
static char *
wallet_code(const char *arg, char *err, size_t errlen)
{
    char *s = arg[0] == '@' ? read_password_file(arg + 1, err, errlen) : strdup(arg);
    size_t i;

    if (s == NULL) {
        if (arg[0] != '@') {
            snprintf(err, errlen, "out of memory");
        }
        return NULL;
    }
    for (i = 0; s[i]; i++) {
        if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e) {
            OPENSSL_cleanse(s, strlen(s));
            free(s);
            snprintf(err, errlen, "a recovery code is printable ASCII");
            return NULL;
        }
    }
    return s;
}

/* A token from the host: given, bought from the wallet (code), or through
 * an invoice. fresh: set when it is new, for the buyer to keep. */
static int
get_token(open_host *h, const open_args *a, const char *code, char *token, int *fresh,
    char *err, size_t errlen)
{
    json_t *offer;
    int ok;

    *fresh = 0;
    if (a->token) {
        snprintf(token, OPEN_TOKEN_MAX + 1, "%s", a->token);
        return 1;
    }
    if ((offer = open_host_offer(h, err, errlen)) == NULL) {
        return 0;
    }
    *fresh = 1;
    if (a->invoice) {
        ok = open_host_wait(h, a->invoice, a->claim, a->wait, token, err, errlen);
    } else if (code) {
        ok = open_host_wallet_buy(h, offer, code, token, err, errlen);
    } else if (a->amount || (ok = open_host_free(h, offer, token, err, errlen)) < 0) {
        ok = open_host_invoice(h, offer, a->amount, a->wait, token, err, errlen);
    }
    json_decref(offer);
    return ok;
}

int
cmd_open(int argc, char **argv)
{
    unsigned char key[BC_SEALED_KEY_LEN];
    char err[600], token[OPEN_TOKEN_MAX + 1], *code = NULL;
    open_copy *c;
    open_host host;
    open_args a;
    int rc = 1, fresh;

    if (!parse_args(&a, argc, argv, &rc)) {
        return rc;
    }
    if (a.key && !bc_hex_decode(key, sizeof(key), a.key, strlen(a.key))) {
        return usage_error("open", "--key: not 64 hex digits");
    }
    if (a.wallet && (code = wallet_code(a.wallet, err, sizeof(err))) == NULL) {
        return usage_error("open", "--wallet-secret: %s", err);
    }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        rc = run_error("open", "out of memory");
        goto done;
    }
    if (!read_header(c, a.in, err, sizeof(err))) {
        run_error("open", "%s: refused, nothing written: %s", a.in, err);
        goto done;
    }
    if (a.host && !same_host(a.host, (const char *) c->h.host, c->h.host_len)) {
        run_error("open", "%s: this copy is sold by %.*s, not by --host %s: nothing sent",
                  a.in, (int) c->h.host_len, (const char *) c->h.host, a.host);
        goto done;
    }
    if (a.key == NULL) {
        host.file = a.in;
        host.out = a.out;
        host.timeout_ms = 30000;
        if (!open_host_init(&host, &c->h, err, sizeof(err))
            || !get_token(&host, &a, code, token, &fresh, err, sizeof(err)))
        {
            run_error("open", "%s", err);
            goto done;
        }
        if (fresh) {
            fprintf(stderr, "bitcache open: token: %s (open again with --token and "
                    "--host %.*s)\n", token, (int) c->h.host_len, (const char *) c->h.host);
        }
        if (!open_host_key(&host, token, key, err, sizeof(err))) {
            OPENSSL_cleanse(token, sizeof(token));
            run_error("open", "%s", err);
            goto done;
        }
        OPENSSL_cleanse(token, sizeof(token));
    }
    rc = decrypt(c, &a, key) ? 0 : 1;

done:
    OPENSSL_cleanse(key, sizeof(key));
    if (code) {
        OPENSSL_cleanse(code, strlen(code));
        free(code);
    }
    if (c && c->fd > 0) {
        close(c->fd);
    }
    free(c);
    return rc;
}
