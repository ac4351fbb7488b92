/* bitcache watch: options, the key, the main loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "args.h"
#include "commands.h"
#include "hex.h"
#include "pay_record.h"
#include "schnorr.h"
#include "watch_chain.h"
#include "watch_lease.h"
#include "watch_log.h"
#include "watch_mempool.h"
#include "watch_metrics.h"
#include "watch_settle.h"
#include "watcher.h"

static const char usage[] =
    "usage: bitcache watch --rpc URL (--rpc-user U [--rpc-password-file F] | --rpc-cookie FILE)\n"
    "       --redis ADDR [--redis-user U] [--redis-password-file F] --key KEYFILE --secret FILE\n"
    "       [--old-key KEYFILE] [--old-secret FILE]\n"
    "       [--network NET] [--poll ms] [--lease ms] [--from-height N] [--redis-prefix P]\n"
    "       [--metrics HOST:PORT]\n"
    "       passwords also from $" ENV_RPC_PASSWORD " and $" ENV_REDIS_PASSWORD;

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
    (void) sig;
    stopping = 1;
}

/* A key file (opt names its option): 64 hex digits, readable by its
 * owner only. 0, or EXIT_USAGE. */
static int
read_key(const char *opt, const char *path, unsigned char seckey[32],
    unsigned char xonly[32])
{
    char buf[130];
    struct stat st;
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return usage_error("watch", "%s %s: %s", opt, path, strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        close(fd);
        return usage_error("watch", "%s %s: must be a regular file that only its owner "
                           "can read (chmod 600)", opt, path);
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 64 || (n > 64 && buf[64] != '\n' && buf[64] != '\r')
        || !bc_hex_decode(seckey, 32, buf, 64) || !bc_xonly_from_seckey(xonly, seckey))
    {
        bc_wipe(buf, sizeof(buf));
        return usage_error("watch", "%s %s: not a secret key (64 hex digits, as bitcache "
                           "keygen writes)", opt, path);
    }
    bc_wipe(buf, sizeof(buf));
    return 0;
}

/* The key of its payment records' MACs, derived from the signing key:
 * only this watcher (or one sharing its key) can write one it counts. */
static int
pay_key_new(bc_hmac_key **out, const unsigned char seckey[32])
{
    unsigned char paykey[32];

    if (!bc_pay_key_derive(paykey, seckey)
        || (*out = bc_hmac_key_new(paykey, sizeof(paykey))) == NULL)
    {
        bc_wipe(paykey, sizeof(paykey));
        return run_error("watch", "cannot derive the payment record key");
    }
    bc_wipe(paykey, sizeof(paykey));
    return 0;
}

/* --key: the key it signs with. */
static int
load_key(watcher *w, const char *path)
{
    int rc;

    if ((rc = read_key("--key", path, w->seckey, w->xonly)) != 0) {
        return rc;
    }
    if (!bc_schnorr_signer_init(&w->signer, w->seckey)) {
        return usage_error("watch", "--key %s: not a valid secret key", path);
    }
    return pay_key_new(&w->pay_key, w->seckey);
}

/* --old-key: the key it signed with before a rotation (docs/operations.md,
 * "Rotating the watcher key"); it only verifies its own earlier payment
 * records and attestations, never signs. */
static int
load_old_key(watcher *w, const char *path)
{
    unsigned char seckey[32];
    int rc;

    if ((rc = read_key("--old-key", path, seckey, w->old_xonly)) != 0) {
        return rc;
    }
    if (memcmp(w->old_xonly, w->xonly, 32) == 0) {
        bc_wipe(seckey, sizeof(seckey));
        return usage_error("watch", "--old-key %s is the same key as --key", path);
    }
    rc = pay_key_new(&w->old_pay_key, seckey);
    bc_wipe(seckey, sizeof(seckey));
    return rc;
}

/* between rounds: scrapes of --metrics are answered meanwhile */
static void
sleep_ms(watcher *w, long ms)
{
    metrics_sleep(w, ms, &stopping);
}

/* The URL for the log: any user:password@ in it (up to the last '@', for
 * a password may hold '@', ':' or '/') becomes "***@". */
static void
url_for_log(char *out, size_t len, const char *url)
{
    const char *hostp = strstr(url, "://"), *at;

    hostp = hostp ? hostp + 3 : url;
    at = strrchr(hostp, '@');
    if (at) {
        snprintf(out, len, "%.*s***@%s", (int) (hostp - url), url, at + 1);
    } else {
        snprintf(out, len, "%s", url);
    }
}

static int
redis_ready(watcher *w)
{
    if (w->rc && w->rc->err) {
        w->m.redis_errors++;
        wlog("redis connection lost (%s); reconnecting", w->rc->errstr);
        redisFree(w->rc);
        w->rc = NULL;
        w->leader = 0;
    }
    if (w->rc == NULL) {
        w->rc = redis_open(&w->ro, "watch");
        if (w->rc) wlog("connected to redis %s", w->ro.addr);
        else w->m.redis_errors++;
    }
    return w->rc != NULL;
}

int
cmd_watch(int argc, char **argv)
{
    static const struct option opts[] = {
        REDIS_LONG_OPTIONS,
        { "rpc", required_argument, NULL, 'u' },
        { "rpc-user", required_argument, NULL, 'U' },
        { "rpc-password", required_argument, NULL, 'W' },
        { "rpc-password-file", required_argument, NULL, 'V' },
        { "rpc-cookie", required_argument, NULL, 'C' },
        { "key", required_argument, NULL, 'k' },
        { "secret", required_argument, NULL, 's' },
        { "old-key", required_argument, NULL, 'K' },
        { "old-secret", required_argument, NULL, 'S' },
        { "network", required_argument, NULL, 'n' },
        { "poll", required_argument, NULL, 'p' },
        { "lease", required_argument, NULL, 'l' },
        { "from-height", required_argument, NULL, 'f' },
        { "metrics", required_argument, NULL, 'M' },
        { NULL, 0, NULL, 0 }
    };
    const char *url = NULL, *user = NULL, *password = NULL, *cookie = NULL;
    const char *keyfile = NULL, *secret = NULL, *pwfile = NULL, *env, *metrics = NULL;
    const char *old_keyfile = NULL, *old_secret = NULL;
    char *pwbuf = NULL;
    unsigned char rnd[8];
    char errbuf[320], host[64], rhex[17], shown[512];
    struct sigaction sa;
    uint64_t v;
    struct timespec t0, t1;
    unsigned long blocks;
    watcher w;
    int ch, taken, rc, exit_code = 0;

    /* flushed by sleep_ms() and after every block, see wlog() */
    setvbuf(stderr, NULL, _IOFBF, 1 << 16);
    memset(&w, 0, sizeof(w));
    w.metrics_fd = -1;
    redis_opts_init(&w.ro);
    w.poll_ms = 1000;
    w.lease_ms = 15000;
    w.from_height = -1;
    w.sign_threads = (int) sysconf(_SC_NPROCESSORS_ONLN);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((taken = redis_opts_take(&w.ro, "watch", ch, optarg)) != 0) {
            if (taken < 0) return EXIT_USAGE;
            continue;
        }
        switch (ch) {
        case 'u': url = optarg; break;
        case 'U': user = optarg; break;
        case 'W': password = optarg; break;
        case 'V': pwfile = optarg; break;
        case 'C': cookie = optarg; break;
        case 'k': keyfile = optarg; break;
        case 'M': metrics = optarg; break;
        case 's': secret = optarg; break;
        case 'K': old_keyfile = optarg; break;
        case 'S': old_secret = optarg; break;
        case 'n':
            if (!bc_network_parse(&w.net, optarg)) {
                return usage_error("watch", "--network: \"%s\" is not mainnet, testnet, "
                                   "signet or regtest", optarg);
            }
            w.have_net = 1;
            break;
        case 'p':
            if (!parse_uint(&v, optarg, 600000) || v < 10) {
                return usage_error("watch", "--poll: \"%s\" is not 10..600000 ms", optarg);
            }
            w.poll_ms = (long) v;
            break;
        case 'l':
            if (!parse_uint(&v, optarg, 3600000) || v < 100) {
                return usage_error("watch", "--lease: \"%s\" is not 100..3600000 ms", optarg);
            }
            w.lease_ms = (long) v;
            break;
        case 'f':
            if (!parse_uint(&v, optarg, 100000000)) {
                return usage_error("watch", "--from-height: \"%s\" is not a height", optarg);
            }
            w.from_height = (long long) v;
            break;
        default:
            return usage_error("watch", "unknown or incomplete option \"%s\"\n%s",
                               argv[optind - 1], usage);
        }
    }
    if (optind != argc) {
        return usage_error("watch", "unexpected argument \"%s\"\n%s", argv[optind], usage);
    }
    if (url == NULL || w.ro.addr == NULL || keyfile == NULL || secret == NULL) {
        /* --secret: without the invoice key nothing tells a genuine
         * invoice from one a Redis writer made up */
        return usage_error("watch", "--rpc, --redis, --key and --secret are required\n%s",
                           usage);
    }
    if (password && pwfile) {
        return usage_error("watch", "give one of --rpc-password and --rpc-password-file");
    }
    if (pwfile) {
        if ((pwbuf = read_password_file(pwfile, errbuf, sizeof(errbuf))) == NULL) {
            return usage_error("watch", "--rpc-password-file: %s", errbuf);
        }
        password = pwbuf;
    } else if (password == NULL && user && (env = getenv(ENV_RPC_PASSWORD)) && *env) {
        password = env;
    }
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        return usage_error("watch", "--rpc: \"%s\" is not an http:// or https:// URL", url);
    }
    if (cookie && (user || password)) {
        return usage_error("watch", "--rpc-cookie and --rpc-user/--rpc-password exclude "
                           "each other");
    }
    if (!cookie && (user == NULL) != (password == NULL)) {
        return usage_error("watch", "--rpc-user and --rpc-password go together");
    }
    if (strlen(w.ro.prefix) > 128) {
        return usage_error("watch", "--redis-prefix is longer than 128 bytes");
    }
    if (w.lease_ms < 2 * w.poll_ms) {
        return usage_error("watch", "--lease (%ld ms) must be at least twice --poll (%ld ms)",
                           w.lease_ms, w.poll_ms);
    }
    /* a scrape (or a client that says nothing) holds a sleep up to
     * METRICS_CLIENT_MS longer: a stranger on the metrics port must not
     * make the lease lapse between two renewals */
    if (metrics && w.lease_ms < 2 * (w.poll_ms + METRICS_CLIENT_MS)) {
        return usage_error("watch", "--lease (%ld ms) must be at least twice --poll and "
                           "%d ms (%ld ms) with --metrics: a scrape may hold the watcher "
                           "%d ms between rounds", w.lease_ms, METRICS_CLIENT_MS,
                           2 * (w.poll_ms + METRICS_CLIENT_MS), METRICS_CLIENT_MS);
    }
    if ((rc = load_key(&w, keyfile)) != 0) {
        return rc;
    }
    if (metrics && !metrics_listen(&w, metrics, errbuf, sizeof(errbuf))) {
        return usage_error("watch", "--metrics: %s", errbuf);
    }
    if (old_keyfile && (rc = load_old_key(&w, old_keyfile)) != 0) {
        return rc;
    }
    if (!bc_secret_load(&w.keys, secret, errbuf, sizeof(errbuf))) {
        return usage_error("watch", "--secret %s: %s", secret, errbuf);
    }
    if (old_secret) {
        if (!bc_secret_load(&w.old_keys, old_secret, errbuf, sizeof(errbuf))) {
            return usage_error("watch", "--old-secret %s: %s", old_secret, errbuf);
        }
        w.have_old_secret = 1;
        /* invoices made under either verify; token ids as each was made */
        if (!bc_keys_rotate(&w.keys, &w.old_keys)) {
            return usage_error("watch", "--secret and --old-secret hold the same secret");
        }
    }
    w.prefix = w.ro.prefix;
    w.rpc = rpc_new(url, user, password, cookie, 30000);
    if (w.rpc) rpc_set_stats(w.rpc, &w.m.rpc);
    w.m.caught_up_at = time(NULL);
    if (pwbuf) {
        bc_wipe(pwbuf, strlen(pwbuf));
        free(pwbuf);
    }
    if (w.rpc == NULL) {
        return run_error("watch", "cannot start the HTTP client");
    }
    if (gethostname(host, sizeof(host)) != 0) snprintf(host, sizeof(host), "?");
    host[sizeof(host) - 1] = '\0';
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return run_error("watch", "no randomness from RAND_bytes");
    }
    bc_hex_encode(rhex, rnd, sizeof(rnd));
    snprintf(w.owner, sizeof(w.owner), "%s:%ld:%s", host, (long) getpid(), rhex);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    bc_hex_encode(rhex, w.xonly, 8);
    url_for_log(shown, sizeof(shown), url);
    wlog("starting: node %s, redis %s, prefix %s, watcher key %s..., poll %ld ms, "
         "lease %ld ms%s%s", shown, w.ro.addr, w.prefix, rhex, w.poll_ms, w.lease_ms,
         metrics ? ", metrics on " : "", metrics ? metrics : "");
    while (!stopping) {
        /* the node's chain first: a watcher on the wrong one stops */
        if ((rc = chain_check(&w)) <= 0) {
            if (rc < 0) {
                exit_code = 1;
                break;
            }
            sleep_ms(&w, w.poll_ms);
            continue;
        }
        if (!redis_ready(&w)) {
            sleep_ms(&w, w.poll_ms > 1000 ? w.poll_ms : 1000);
            continue;
        }
        if (!lease_renew(&w)) {
            sleep_ms(&w, w.poll_ms);
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        blocks = w.blocks_done;
        w.settled = 0;
        w.round++;          /* the node's block hashes are asked afresh */
        /* the mempool before the height: a transaction mined in between
         * is then in a block this round reads */
        if (mempool_snapshot(&w) && chain_sync(&w) && !stopping && w.leader) {
            (void) mempool_scan(&w, w.node_tip);
            (void) settle_open(&w, w.node_tip);
            (void) settle_due(&w, w.node_tip);
            if (w.metrics_fd >= 0) metrics_count_open(&w);
        }
        if (w.m.have_tip && w.m.tip >= w.node_tip) w.m.caught_up_at = time(NULL);
        if (w.blocks_done != blocks) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            wlog("round: %lu block(s) processed and %zu open invoice(s) evaluated in %.0f ms",
                 w.blocks_done - blocks, w.settled,
                 (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
        }
        sleep_ms(&w, w.poll_ms);
    }
    wlog("stopping");
    metrics_close(&w);
    lease_release(&w);
    if (w.rc) redisFree(w.rc);
    rpc_free(w.rpc);
    rpc_free(w.fetch_rpc);
    free(w.mempool);
    free(w.pool);
    bc_wipe(w.seckey, sizeof(w.seckey));
    bc_schnorr_signer_clear(&w.signer);
    bc_hmac_key_free(w.pay_key);
    bc_hmac_key_free(w.old_pay_key);
    bc_keys_clear(&w.keys);
    if (w.have_old_secret) {
        bc_keys_clear(&w.old_keys);
    }
    return exit_code;
}
