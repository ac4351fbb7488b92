/* bitcache watch --metrics: a listener polled while the loop sleeps, one
 * scrape at a time. A client gets 1 s to send its request head and to read
 * the answer: a slow or silent one delays the next round by that much at
 * most, never the watcher's work. Outside input (the request line) is
 * parsed by libbitcache's http_request_line. */
#define _GNU_SOURCE         /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_request_line.h"
#include "pay_record.h"
#include "prom.h"
#include "watch_log.h"
#include "watch_metrics.h"
#include "watch_redis.h"

#define METRICS_HEAD_MAX  8192
#define METRICS_BODY_MAX  16384

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
metrics_listen(watcher *w, const char *addr, char *err, size_t errlen)
{
    struct addrinfo hints, *ai = NULL;
    char host[64], port[8];
    const char *colon, *h = addr;
    size_t hl;
    int fd, one = 1, rc;

    /* HOST:PORT with a numeric host, [v6]:PORT for IPv6 */
    colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr || strlen(colon + 1) == 0 || strlen(colon + 1) > 5
        || strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) < 1
        || atoi(colon + 1) > 65535)
    {
        snprintf(err, errlen, "\"%s\" is not HOST:PORT (a numeric IPv4 address or [IPv6] "
                 "and a port 1..65535)", addr);
        return 0;
    }
    hl = (size_t) (colon - addr);
    if (addr[0] == '[') {
        if (hl < 3 || addr[hl - 1] != ']') hl = sizeof(host);
        else h++, hl -= 2;
    }
    if (hl >= sizeof(host)) {
        snprintf(err, errlen, "\"%s\" is not HOST:PORT (a numeric IPv4 address or [IPv6] "
                 "and a port 1..65535)", addr);
        return 0;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    snprintf(port, sizeof(port), "%s", colon + 1);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
        snprintf(err, errlen, "\"%s\": %s is not a numeric IP address", addr, host);
        return 0;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0
        || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0)
    {
        snprintf(err, errlen, "cannot listen on %s port %s: %s", host, port, strerror(errno));
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return 0;
    }
    freeaddrinfo(ai);
    w->metrics_fd = fd;
    return 1;
}

void
metrics_close(watcher *w)
{
    if (w->metrics_fd >= 0) close(w->metrics_fd);
    w->metrics_fd = -1;
}

void
metrics_count_open(watcher *w)
{
    redisReply *r = wcmd(w, "SCARD %s" BC_KEY_WATCHER_OPEN, w->prefix);

    if (r && r->type == REDIS_REPLY_INTEGER && r->integer >= 0) {
        w->m.open = (uint64_t) r->integer;
    }
    if (r) freeReplyObject(r);
}

static void
family_u64(bc_sbuf *b, const char *name, const char *type, const char *help, uint64_t v)
{
    bc_prom_family(b, name, type, help);
    bc_prom_u64(b, name, NULL, v);
}

size_t
metrics_render(watcher *w, char *out, size_t cap)
{
    watch_counters *m = &w->m;
    /* a standby follows no chain: its lag would only grow; 0 */
    uint64_t lag = !w->leader ? 0
                   : m->have_tip ? (w->node_tip > m->tip ? w->node_tip - m->tip : 0)
                   : w->node_tip;
    time_t now = time(NULL);
    bc_sbuf b;

    bc_sbuf_init(&b, out, cap);
    family_u64(&b, "bitcache_watch_tip_height", "gauge",
               "The last block the watcher processed.", m->tip);
    family_u64(&b, "bitcache_watch_node_height", "gauge",
               "The node's height at the last round.", w->node_tip);
    family_u64(&b, "bitcache_watch_lag_blocks", "gauge",
               "Blocks the node has that the watcher has not processed yet.", lag);
    family_u64(&b, "bitcache_watch_lag_seconds", "gauge",
               "Seconds since the watcher last had processed the node's tip (0: it has).",
               lag && now > m->caught_up_at ? (uint64_t) (now - m->caught_up_at) : 0);
    family_u64(&b, "bitcache_watch_leader", "gauge",
               "1 while this watcher holds the lease and does the work.", w->leader ? 1 : 0);
    family_u64(&b, "bitcache_watch_invoices_open", "gauge",
               "Invoices with a payment seen and not settled yet (the open set).", m->open);
    family_u64(&b, "bitcache_watch_invoices_settled_total", "counter",
               "Invoices this watcher found paid.", m->settled);
    bc_prom_family(&b, "bitcache_watch_payments_total", "counter",
                   "Payments to invoices recorded, by where they were seen.");
    bc_prom_u64(&b, "bitcache_watch_payments_total", "where=\"mempool\"", m->pay_mempool);
    bc_prom_u64(&b, "bitcache_watch_payments_total", "where=\"block\"", m->pay_block);
    family_u64(&b, "bitcache_watch_reorgs_total", "counter",
               "Reorgs: times the watcher's tip left the node's chain.", m->reorgs);
    family_u64(&b, "bitcache_watch_reorg_blocks_total", "counter",
               "Blocks rolled back by reorgs.", m->reorg_blocks);
    family_u64(&b, "bitcache_watch_rpc_calls_total", "counter",
               "JSON-RPC calls to the node.", __atomic_load_n(&m->rpc.calls, __ATOMIC_RELAXED));
    family_u64(&b, "bitcache_watch_rpc_errors_total", "counter",
               "JSON-RPC calls that failed (transport, HTTP status or the node's error).",
               __atomic_load_n(&m->rpc.errors, __ATOMIC_RELAXED));
    bc_prom_hist_write(&b, "bitcache_watch_rpc_latency_seconds",
                       "Time of a JSON-RPC call to the node.", &m->rpc.latency);
    family_u64(&b, "bitcache_watch_redis_errors_total", "counter",
               "Redis commands that failed or connections lost.", m->redis_errors);
    return bc_sbuf_end(&b);
}

/* waits up to the deadline for fd to be ready for events; 0 on timeout */
static int
wait_fd(int fd, short events, long deadline)
{
    struct pollfd p = { fd, events, 0 };
    long left;
    int rc;

    while ((left = deadline - now_ms()) > 0) {
        rc = poll(&p, 1, (int) left);
        if (rc > 0) return 1;
        if (rc < 0 && errno != EINTR) return 0;
    }
    return 0;
}

static void
send_all(int fd, const char *p, size_t n, long deadline)
{
    ssize_t k;

    while (n > 0) {
        k = send(fd, p, n, MSG_NOSIGNAL);
        if (k > 0) {
            p += k;
            n -= (size_t) k;
        } else if (k < 0 && errno != EAGAIN && errno != EINTR) {
            return;
        } else if (!wait_fd(fd, POLLOUT, deadline)) {
            return;
        }
    }
}

/* reads the request head (up to its empty line, so that closing leaves
 * nothing unread to reset the connection); its length, 0 if none came */
static size_t
read_head(int fd, char *buf, size_t cap, long deadline)
{
    size_t n = 0;
    ssize_t k;

    while (n < cap - 1) {
        k = recv(fd, buf + n, cap - 1 - n, 0);
        if (k > 0) {
            n += (size_t) k;
            buf[n] = '\0';
            if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n")) break;
        } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
            break;
        } else if (!wait_fd(fd, POLLIN, deadline)) {
            break;
        }
    }
    return n;
}

static void
serve_one(watcher *w, int fd)
{
    static char body[METRICS_BODY_MAX];
    char head[METRICS_HEAD_MAX], hdr[256];
    long deadline = now_ms() + METRICS_CLIENT_MS;
    bc_http_request_line rl;
    size_t n, used, blen = 0;
    int status, hl;
    const char *reason, *text;

    n = read_head(fd, head, sizeof(head), deadline);
    if (n == 0) return;
    if (bc_http_request_line_parse(&rl, head, n, &used) != 1) {
        status = 400;
    } else {
        status = bc_http_metrics_status(&rl, "/metrics");
    }
    switch (status) {
    case 200:
        reason = "OK";
        blen = metrics_render(w, body, sizeof(body));
        if (blen >= sizeof(body)) {
            wlog("metrics: %zu bytes do not fit in %d", blen, METRICS_BODY_MAX);
            blen = sizeof(body) - 1;
        }
        text = body;
        break;
    case 404: reason = "Not Found"; text = "only /metrics here\n"; break;
    case 405: reason = "Method Not Allowed"; text = "GET only\n"; break;
    default: reason = "Bad Request"; text = "not an HTTP/1.x request\n"; break;
    }
    if (status != 200) blen = strlen(text);
    hl = snprintf(hdr, sizeof(hdr), "HTTP/1.%d %d %s\r\nContent-Type: %s\r\n"
                  "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
                  status == 400 ? 1 : rl.minor, status, reason,
                  status == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain",
                  blen, status == 405 ? "Allow: GET\r\n" : "");
    send_all(fd, hdr, (size_t) hl, deadline);
    send_all(fd, text, blen, deadline);
    shutdown(fd, SHUT_WR);
}

void
metrics_sleep(watcher *w, long ms, volatile sig_atomic_t *stop)
{
    long deadline = now_ms() + ms, left;
    struct pollfd p;
    int fd, listen_fd = w->metrics_fd;

    fflush(stderr);
    while (!*stop && (left = deadline - now_ms()) > 0) {
        p.fd = listen_fd;           /* -1: poll only sleeps */
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, (int) left) <= 0) continue;
        /* the listener failed, or no descriptor is left for a client (it
         * stays in the backlog): sleep on without spinning, try again
         * next time */
        if (!(p.revents & POLLIN)) {
            listen_fd = -1;
            continue;
        }
        fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
                && errno != ECONNABORTED)
            {
                listen_fd = -1;
            }
            continue;
        }
        serve_one(w, fd);
        close(fd);
    }
}
