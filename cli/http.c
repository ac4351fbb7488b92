#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"

size_t
http_buf_write(char *p, size_t size, size_t n, void *arg)
{
    http_buf *b = arg;
    size_t add = size * n, cap;
    char *nb;

    if (b->len + add + 1 > b->cap) {
        if (b->len + add + 1 > b->max) {
            b->overflow = 1;
            return 0;                   /* curl stops with a write error */
        }
        cap = b->cap ? b->cap : 4096;
        while (cap < b->len + add + 1) cap *= 2;
        if ((nb = realloc(b->p, cap)) == NULL) {
            return 0;
        }
        b->p = nb;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, add);
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}

/* The URL's host (and port), for errors: never its path or query, which
 * may hold a token. */
static void
url_host(const char *url, char *out, size_t outlen)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;

    snprintf(out, outlen, "the host");
    if (u == NULL) {
        return;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
    {
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
            snprintf(out, outlen, "%s:%s", host, port);
        } else {
            snprintf(out, outlen, "%s", host);
        }
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

static void
fail_reason(CURLcode rc, const char *url, const char *detail, int overflow,
    long timeout_ms, char *err, size_t errlen)
{
    char host[300];

    url_host(url, host, sizeof(host));
    if (detail[0] == '\0') {
        detail = curl_easy_strerror(rc);
    }
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(err, errlen, "cannot resolve %s: %s", host, detail);
        break;
    case CURLE_COULDNT_CONNECT:
        snprintf(err, errlen, "cannot connect to %s: %s", host, detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(err, errlen, "%s did not answer within %ld s", host, timeout_ms / 1000);
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        snprintf(err, errlen, "TLS with %s failed: %s", host, detail);
        break;
    case CURLE_WRITE_ERROR:
        snprintf(err, errlen, overflow ? "%s answered more than %u bytes"
                 : "%s: out of memory", host, HTTP_BODY_MAX);
        break;
    default:
        snprintf(err, errlen, "%s: %s", host, detail);
    }
}

int
http_request(const char *method, const char *url, const char *json,
    const char *const *headers, long timeout_ms, http_answer *a,
    char *err, size_t errlen)
{
    static int curl_ready;
    char detail[CURL_ERROR_SIZE];
    struct curl_slist *h = NULL, *nh;
    http_buf b = { NULL, 0, 0, HTTP_BODY_MAX, 0 };
    curl_off_t retry = -1;
    CURL *c;
    CURLcode rc;
    int ok = 0;

    memset(a, 0, sizeof(*a));
    a->retry_after = -1;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
            snprintf(err, errlen, "libcurl cannot start");
            return 0;
        }
        curl_ready = 1;
    }
    if ((c = curl_easy_init()) == NULL) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    h = curl_slist_append(NULL, "Accept: application/json");
    if (h && json && (nh = curl_slist_append(h, "Content-Type: application/json")) == NULL) {
        curl_slist_free_all(h);
        h = NULL;
    }
    for (; h && headers && *headers; headers++) {
        if ((nh = curl_slist_append(h, *headers)) == NULL) {
            curl_slist_free_all(h);
            h = NULL;
        }
    }
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    detail[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "bitcache-open/1");
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json ? json : "");
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        fail_reason(rc, url, detail, b.overflow, timeout_ms, err, errlen);
        goto done;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry > 0) {
        a->retry_after = retry > 3600 ? 3600 : (long) retry;
    }
    if (b.p == NULL && (b.p = calloc(1, 1)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    a->body = b.p;
    a->len = b.len;
    b.p = NULL;
    ok = 1;

done:
    free(b.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return ok;
}

void
http_free(http_answer *a)
{
    free(a->body);
    a->body = NULL;
    a->len = 0;
}
