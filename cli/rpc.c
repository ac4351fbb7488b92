#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "hex.h"
#include "http.h"
#include "rpc.h"
#include "secret.h"

#define RPC_MAX_REPLY (256u << 20)      /* a 4 MB block is 8 MB of hex */

struct rpc_client {
    CURL               *curl;
    struct curl_slist  *headers;
    char               *url;
    char               *userpwd;        /* user:password, wiped on free */
    char               *cookie_file;
    long                timeout_ms;
    unsigned long       id;
    http_buf            b;              /* the reply */
    rpc_stats          *stats;          /* NULL: not counted */
};

static void
set_userpwd(rpc_client *c, char *userpwd)
{
    if (c->userpwd) {
        bc_wipe(c->userpwd, strlen(c->userpwd));
        free(c->userpwd);
    }
    c->userpwd = userpwd;
    curl_easy_setopt(c->curl, CURLOPT_USERPWD, userpwd);
}

/* Reads user:password from a cookie file. 1 if it looks like one. */
static int
load_cookie(rpc_client *c)
{
    char line[512];
    FILE *f;
    size_t n;

    if ((f = fopen(c->cookie_file, "r")) == NULL) {
        return 0;
    }
    n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    if (n == 0 || strchr(line, ':') == NULL) {
        bc_wipe(line, sizeof(line));
        return 0;
    }
    set_userpwd(c, strdup(line));
    bc_wipe(line, sizeof(line));
    return c->userpwd != NULL;
}

rpc_client *
rpc_new(const char *url, const char *user, const char *password, const char *cookie_file,
    long timeout_ms)
{
    static int curl_ready;
    rpc_client *c;
    size_t n;

    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) return NULL;
        curl_ready = 1;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        return NULL;
    }
    c->curl = curl_easy_init();
    c->url = strdup(url);
    c->b.max = RPC_MAX_REPLY;
    c->timeout_ms = timeout_ms;
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (c->curl == NULL || c->url == NULL || c->headers == NULL) {
        rpc_free(c);
        return NULL;
    }
    curl_easy_setopt(c->curl, CURLOPT_URL, c->url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, http_buf_write);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->b);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (cookie_file) {
        if ((c->cookie_file = strdup(cookie_file)) == NULL) {
            rpc_free(c);
            return NULL;
        }
        (void) load_cookie(c);      /* may not exist yet: retried on 401 */
    } else if (user || password) {
        n = (user ? strlen(user) : 0) + 1 + (password ? strlen(password) : 0) + 1;
        char *up = malloc(n);
        if (up == NULL) {
            rpc_free(c);
            return NULL;
        }
        snprintf(up, n, "%s:%s", user ? user : "", password ? password : "");
        set_userpwd(c, up);
    }
    return c;
}

rpc_client *
rpc_clone(const rpc_client *c)
{
    rpc_client *n = rpc_new(c->url, NULL, NULL, c->cookie_file, c->timeout_ms);
    char *up;

    if (n) n->stats = c->stats;
    if (n && c->userpwd && c->cookie_file == NULL) {
        if ((up = strdup(c->userpwd)) == NULL) {
            rpc_free(n);
            return NULL;
        }
        set_userpwd(n, up);
    }
    return n;
}

void
rpc_free(rpc_client *c)
{
    if (c == NULL) return;
    if (c->curl) curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    if (c->userpwd) {
        bc_wipe(c->userpwd, strlen(c->userpwd));
        free(c->userpwd);
    }
    free(c->cookie_file);
    free(c->url);
    free(c->b.p);
    free(c);
}

/* A block is megabytes of hex in one JSON string, which jansson would copy
 * character by character, checking each as UTF-8. When the reply starts
 * with {"result":"<hex digits>" (as Bitcoin Core's and bcoin's do), the
 * digits are decoded here and cut out of the reply, so that jansson parses
 * the rest (error, id) with an empty result. 1 if done. */
static int
take_hex_result(rpc_client *c, unsigned char **out, size_t *outlen)
{
    static const char key[] = "\"result\"";
    char *p = c->b.p, *end = c->b.p + c->b.len, *q;
    size_t n;

#define SKIP_WS() while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++
    SKIP_WS();
    if (p == end || *p++ != '{') return 0;
    SKIP_WS();
    if ((size_t) (end - p) < sizeof(key) - 1 || memcmp(p, key, sizeof(key) - 1) != 0) return 0;
    p += sizeof(key) - 1;
    SKIP_WS();
    if (p == end || *p++ != ':') return 0;
    SKIP_WS();
    if (p == end || *p++ != '"') return 0;
#undef SKIP_WS
    if ((q = memchr(p, '"', end - p)) == NULL || (q - p) % 2 != 0) return 0;
    n = (size_t) (q - p) / 2;
    if ((*out = malloc(n ? n : 1)) == NULL) return 0;
    if (!bc_hex_decode(*out, n, p, (size_t) (q - p))) {
        free(*out);           /* escapes or not hex: jansson decides */
        *out = NULL;
        return 0;
    }
    *outlen = n;
    memmove(p, q, (size_t) (end - q) + 1);
    c->b.len -= (size_t) (q - p);
    return 1;
}

/* hex: NULL, or where a hex string result goes decoded (then the result
 * returned is the JSON string, emptied if take_hex_result() took it) */
static json_t *
call_once(rpc_client *c, const char *body, long *status, unsigned char **hex,
    size_t *hexlen, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *reply, *result, *error, *msg;
    CURLcode rc;

    c->b.len = 0;
    c->b.overflow = 0;
    *status = 0;
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    rc = curl_easy_perform(c->curl);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", c->b.overflow ? "reply larger than 256 MB"
                 : curl_easy_strerror(rc));
        return NULL;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    if (*status == 401 || *status == 403) {
        snprintf(err, errlen, "HTTP %ld: the node refused the credentials", *status);
        return NULL;
    }
    if (hex && c->b.p) {
        (void) take_hex_result(c, hex, hexlen);     /* freed below on an error */
    }
    reply = json_loadb(c->b.p ? c->b.p : "", c->b.len, JSON_DECODE_ANY, &jerr);
    if (reply == NULL || !json_is_object(reply)) {
        snprintf(err, errlen, "HTTP %ld, not a JSON-RPC reply", *status);
        json_decref(reply);
        goto fail;
    }
    error = json_object_get(reply, "error");
    if (error && !json_is_null(error)) {
        msg = json_object_get(error, "message");
        snprintf(err, errlen, "node error: %.200s",
                 json_is_string(msg) ? json_string_value(msg) : "(no message)");
        json_decref(reply);
        goto fail;
    }
    result = json_object_get(reply, "result");
    if (result == NULL) {
        snprintf(err, errlen, "HTTP %ld, a reply without a result", *status);
        json_decref(reply);
        goto fail;
    }
    json_incref(result);
    json_decref(reply);
    return result;
fail:
    if (hex && *hex) {
        free(*hex);
        *hex = NULL;
    }
    return NULL;
}

void
rpc_set_stats(rpc_client *c, rpc_stats *st)
{
    c->stats = st;
}

static void
count_call(rpc_client *c, const struct timespec *t0, int failed)
{
    struct timespec t1;

    if (c->stats == NULL) return;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    __atomic_fetch_add(&c->stats->calls, 1, __ATOMIC_RELAXED);
    if (failed) __atomic_fetch_add(&c->stats->errors, 1, __ATOMIC_RELAXED);
    bc_prom_observe(&c->stats->latency,
                    (double) (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9);
}

static json_t *
call(rpc_client *c, const char *method, json_t *params, unsigned char **hex, size_t *hexlen,
    char *err, size_t errlen)
{
    json_t *req, *result;
    struct timespec t0;
    char *body;
    long status;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    req = json_pack("{s:s,s:I,s:s,s:o}", "jsonrpc", "1.0", "id", (json_int_t) ++c->id,
                    "method", method, "params", params ? params : json_array());
    if (req == NULL || (body = json_dumps(req, JSON_COMPACT)) == NULL) {
        json_decref(req);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    json_decref(req);
    result = call_once(c, body, &status, hex, hexlen, err, errlen);
    if (result == NULL && (status == 401 || status == 403) && c->cookie_file
        && load_cookie(c))
    {
        result = call_once(c, body, &status, hex, hexlen, err, errlen);
    }
    free(body);
    count_call(c, &t0, result == NULL);
    return result;
}

json_t *
rpc_call(rpc_client *c, const char *method, json_t *params, char *err, size_t errlen)
{
    return call(c, method, params, NULL, NULL, err, errlen);
}

char *
rpc_call_str(rpc_client *c, const char *method, json_t *params, size_t *len, char *err,
    size_t errlen)
{
    json_t *r = rpc_call(c, method, params, err, errlen);
    char *s;

    if (r == NULL) {
        return NULL;
    }
    if (!json_is_string(r)) {
        snprintf(err, errlen, "%s: the result is not a string", method);
        json_decref(r);
        return NULL;
    }
    *len = json_string_length(r);
    s = malloc(*len + 1);
    if (s) memcpy(s, json_string_value(r), *len + 1);
    else snprintf(err, errlen, "out of memory");
    json_decref(r);
    return s;
}

unsigned char *
rpc_call_hex(rpc_client *c, const char *method, json_t *params, size_t *len, char *err,
    size_t errlen)
{
    unsigned char *out = NULL;
    json_t *r = call(c, method, params, &out, len, err, errlen);
    size_t n;

    if (r == NULL) {
        return NULL;
    }
    if (out == NULL) {          /* not taken by take_hex_result(): from the JSON */
        if (!json_is_string(r) || json_string_length(r) % 2 != 0) {
            snprintf(err, errlen, "%s: the result is not a hex string", method);
        } else if ((out = malloc((n = json_string_length(r) / 2) ? n : 1)) == NULL) {
            snprintf(err, errlen, "out of memory");
        } else if (!bc_hex_decode(out, n, json_string_value(r), 2 * n)) {
            snprintf(err, errlen, "%s: the result is not a hex string", method);
            free(out);
            out = NULL;
        } else {
            *len = n;
        }
    } else if (!json_is_string(r) || json_string_length(r) != 0) {
        snprintf(err, errlen, "%s: the result is not a hex string", method);
        free(out);
        out = NULL;
    }
    json_decref(r);
    return out;
}
