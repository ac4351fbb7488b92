/*
 * The creators' directives that need more than a number (see the header).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "cors.h"
#include "giveaway.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_creator_conf.h"


char *
ngx_http_bitcache_free_window(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    time_t     *window, t;
    ngx_str_t  *value;

    window = (time_t *) ((char *) conf + cmd->offset);

    if (*window != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        *window = 0;
        return NGX_CONF_OK;
    }

    t = ngx_parse_time(&value[1], 1);

    if (t == (time_t) NGX_ERROR || t < 1 || t > (time_t) BC_FREE_WINDOW_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid time \"%V\", expected \"off\" or "
                           "1s to 366d", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    *window = t;

    return NGX_CONF_OK;
}


char *
ngx_http_bitcache_cors_origins(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bitcache_loc_conf_t  *blcf = conf;

    char         err[128];
    ngx_str_t   *value, *o;
    ngx_uint_t   i;

    if (blcf->cors_origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        blcf->cors_origins = NULL;
        return NGX_CONF_OK;
    }

    blcf->cors_origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                          sizeof(ngx_str_t));
    if (blcf->cors_origins == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (!(value[i].len == 1 && value[i].data[0] == '*')
            && !bc_cors_origin_check((const char *) value[i].data,
                                     value[i].len, err, sizeof(err)))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": origin \"%V\" %s", &cmd->name,
                               &value[i], err);
            return NGX_CONF_ERROR;
        }

        if (value[i].len == 1 && value[i].data[0] == '*'
            && cf->args->nelts != 2)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"*\" must stand alone", &cmd->name);
            return NGX_CONF_ERROR;
        }

        o = ngx_array_push(blcf->cors_origins);
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }
        *o = value[i];
    }

    return NGX_CONF_OK;
}


ngx_flag_t
ngx_http_bitcache_cors_allowed(ngx_http_request_t *r, ngx_array_t *origins,
    ngx_str_t *origin)
{
    ngx_str_t        *o;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *found;

    if (origins == NULL) {
        return 0;
    }

    /* exactly one Origin header: two are no origin at all */
    found = NULL;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;
        for (i = 0; i < part->nelts; i++) {
            if (h[i].key.len == sizeof("Origin") - 1
                && ngx_strncasecmp(h[i].key.data, (u_char *) "Origin",
                                   sizeof("Origin") - 1) == 0)
            {
                if (found) {
                    return 0;
                }
                found = &h[i];
            }
        }
    }

    if (found == NULL
        || !bc_cors_origin_check((const char *) found->value.data,
                                 found->value.len, NULL, 0))
    {
        return 0;
    }

    o = origins->elts;

    for (i = 0; i < origins->nelts; i++) {
        if ((o[i].len == 1 && o[i].data[0] == '*')
            || (o[i].len == found->value.len
                && ngx_strncmp(o[i].data, found->value.data, o[i].len) == 0))
        {
            *origin = found->value;
            return 1;
        }
    }

    return 0;
}
