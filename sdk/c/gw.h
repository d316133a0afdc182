/*
 * gw.h: single-header C SDK for gateway plugins (gw_v1 ABI).
 *
 * The contract is sdk/abi (Go package doc); this header mirrors it.
 *
 * Build (Debian bookworm: apt-get install clang lld wasi-libc
 * libclang-rt-dev-wasm32):
 *
 *   clang --target=wasm32-wasi -mexec-model=reactor -O2 \
 *         -I path/to/sdk/c -o plugin.wasm plugin.c
 *
 * A plugin defines exactly one handler with GW_FILTER, GW_TRANSFORM or
 * GW_OBSERVE; the macro also defines the gw_abi_v1 marker and gw_alloc
 * (malloc), so use one of them in exactly one translation unit:
 *
 *   #include "gw.h"
 *   GW_FILTER(check) {            // meta, meta_len, data, data_len
 *       gw_log(GW_LEVEL_INFO, "checked");
 *       return GW_ALLOW;
 *   }
 *
 * meta and data are not NUL-terminated. The input buffer belongs to the
 * plugin; the handler macros free it when the handler returns.
 */
#ifndef GW_H
#define GW_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Handler results. */
#define GW_OBSERVE_OK 0
#define GW_ALLOW 0
#define GW_FLAG 1
#define GW_DENY 2
#define GW_UNCHANGED 0
#define GW_REPLACED 1
#define GW_DROP 2
#define GW_RESULT_FAILED (-1)

/* Host function statuses. */
#define GW_OK 0
#define GW_NOT_FOUND (-1)
#define GW_TOO_LARGE (-2)
#define GW_QUOTA (-3)
#define GW_INVALID (-4)
#define GW_UNAVAILABLE (-5)
#define GW_WRONG_KIND (-6)

/* Log levels. */
#define GW_LEVEL_DEBUG 0
#define GW_LEVEL_INFO 1
#define GW_LEVEL_WARN 2
#define GW_LEVEL_ERROR 3

/* The gw_v1 host functions, exactly as the host declares them. */
#define GW__IMPORT(n) __attribute__((import_module("gw_v1"), import_name(n)))
GW__IMPORT("log") void gw_v1_log(int32_t level, const char *msg, int32_t msg_len);
GW__IMPORT("config_get") int32_t gw_v1_config_get(const char *key, int32_t key_len, char *buf, int32_t buf_cap);
GW__IMPORT("kv_get") int32_t gw_v1_kv_get(const char *key, int32_t key_len, char *buf, int32_t buf_cap);
GW__IMPORT("kv_set") int32_t gw_v1_kv_set(const char *key, int32_t key_len, const char *val, int32_t val_len, int64_t ttl_ms);
GW__IMPORT("kv_delete") int32_t gw_v1_kv_delete(const char *key, int32_t key_len);
GW__IMPORT("kv_incr") int32_t gw_v1_kv_incr(const char *key, int32_t key_len, int64_t delta, int64_t ttl_ms, int64_t *out);
GW__IMPORT("metric_add") int32_t gw_v1_metric_add(const char *name, int32_t name_len, int64_t delta);
GW__IMPORT("output_set") int32_t gw_v1_output_set(const char *p, int32_t len);
GW__IMPORT("reason_set") int32_t gw_v1_reason_set(const char *p, int32_t len);
#undef GW__IMPORT

/* Exports: marker, allocator and one handler. */
#define GW__COMMON                                                            \
    __attribute__((export_name("gw_abi_v1"))) void gw_abi_v1(void) {}        \
    __attribute__((export_name("gw_alloc"))) void *gw_alloc(int32_t n) {     \
        if (n < 0) return 0;                                                  \
        return malloc(n > 0 ? (size_t)n : 1);                                 \
    }

#define GW__UNUSED __attribute__((unused))
#define GW__HANDLER(export, fn)                                               \
    GW__COMMON                                                                \
    static int32_t fn(const char *meta, size_t meta_len, const char *data,    \
                      size_t data_len);                                       \
    __attribute__((export_name(export))) int32_t gw__handler_##fn(            \
        int32_t mp, int32_t ml, int32_t dp, int32_t dl) {                     \
        int32_t r = fn((const char *)(uintptr_t)mp, (size_t)ml,               \
                       (const char *)(uintptr_t)dp, (size_t)dl);              \
        free((void *)(uintptr_t)mp); /* meta starts the gw_alloc buffer */    \
        return r;                                                             \
    }                                                                         \
    static int32_t fn(const char *meta GW__UNUSED, size_t meta_len GW__UNUSED, \
                      const char *data GW__UNUSED, size_t data_len GW__UNUSED)

#define GW_FILTER(fn) GW__HANDLER("gw_filter", fn)
#define GW_TRANSFORM(fn) GW__HANDLER("gw_transform", fn)
#define GW_OBSERVE(fn) GW__HANDLER("gw_observe", fn)

/* ---- helpers ---- */

static inline void gw_logn(int32_t level, const char *msg, size_t n) {
    gw_v1_log(level, msg, (int32_t)n);
}
static inline void gw_log(int32_t level, const char *msg) {
    gw_logn(level, msg, strlen(msg));
}

/* gw__get calls config_get or kv_get, growing a malloc'd buffer until the
 * value fits. Returns a NUL-terminated buffer the caller frees (length in
 * *len), or NULL with *status set (GW_NOT_FOUND, ...). */
static inline char *gw__get(int32_t (*get)(const char *, int32_t, char *, int32_t),
                            const char *key, size_t key_len, size_t *len,
                            int32_t *status) {
    int32_t cap = 64;
    for (;;) {
        char *buf = (char *)malloc((size_t)cap + 1);
        if (!buf) { if (status) *status = GW_UNAVAILABLE; return NULL; }
        int32_t n = get(key, (int32_t)key_len, buf, cap);
        if (n < 0) { free(buf); if (status) *status = n; return NULL; }
        if (n <= cap) {
            buf[n] = 0;
            if (len) *len = (size_t)n;
            if (status) *status = GW_OK;
            return buf;
        }
        free(buf);
        cap = n; /* the value changed size between calls: try again */
    }
}

/* gw_config_get returns config key's value (NUL-terminated, malloc'd; free
 * it) or NULL when the key is not set. */
static inline char *gw_config_get(const char *key, size_t *len) {
    return gw__get(gw_v1_config_get, key, strlen(key), len, NULL);
}

/* gw_config_int returns config key parsed as a decimal integer, or def
 * when it is missing or not a number. */
static inline int64_t gw_config_int(const char *key, int64_t def) {
    char *v = gw_config_get(key, NULL);
    if (!v) return def;
    char *end;
    long long n = strtoll(v, &end, 10);
    int ok = *v && !*end;
    free(v);
    return ok ? (int64_t)n : def;
}

/* gw_kv_get returns the value (NUL-terminated, malloc'd; free it) or NULL
 * with *status (GW_NOT_FOUND or another status; status may be NULL). */
static inline char *gw_kv_get(const char *key, size_t key_len, size_t *len, int32_t *status) {
    return gw__get(gw_v1_kv_get, key, key_len, len, status);
}
static inline int32_t gw_kv_set(const char *key, size_t key_len, const char *val,
                                size_t val_len, int64_t ttl_ms) {
    return gw_v1_kv_set(key, (int32_t)key_len, val, (int32_t)val_len, ttl_ms);
}
static inline int32_t gw_kv_delete(const char *key, size_t key_len) {
    return gw_v1_kv_delete(key, (int32_t)key_len);
}
/* gw_kv_incr adds delta to the counter at key and stores the new value in
 * *out. A TTL (ms, 0 = none) is kept from the counter's creation. */
static inline int32_t gw_kv_incr(const char *key, size_t key_len, int64_t delta,
                                 int64_t ttl_ms, int64_t *out) {
    int64_t v = 0;
    int32_t st = gw_v1_kv_incr(key, (int32_t)key_len, delta, ttl_ms, &v);
    if (out) *out = v;
    return st;
}
static inline int32_t gw_metric_add(const char *name, int64_t delta) {
    return gw_v1_metric_add(name, (int32_t)strlen(name), delta);
}
static inline int32_t gw_output_set(const char *p, size_t len) {
    return gw_v1_output_set(p, (int32_t)len);
}
static inline int32_t gw_reason_set(const char *reason) {
    return gw_v1_reason_set(reason, (int32_t)strlen(reason));
}

/* gw_json_field finds the top-level member name of the flat JSON object
 * json[0:len] and returns a pointer to its raw value (for a string: the
 * bytes between the quotes, escapes left as they are; for a number, true,
 * false or null: the literal), with its length in *out_len; NULL when the
 * member is missing or its value is an object or array. It is a scanner for
 * hot paths, not a validator: it relies on the gateway, which refuses events
 * whose JSON names a key twice in one object (400 duplicate_key), so each
 * member appears once and this reads the value the receiver reads. */
static inline const char *gw__json_skip_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}
static inline const char *gw__json_str_end(const char *p, const char *e) {
    /* p is just after the opening quote; returns the closing quote or e */
    while (p < e && *p != '"') p += (*p == '\\') ? 2 : 1;
    return p < e ? p : e;
}
static inline const char *gw__json_skip_value(const char *p, const char *e) {
    if (p >= e) return e;
    if (*p == '"') { p = gw__json_str_end(p + 1, e); return p < e ? p + 1 : e; }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < e) {
            if (*p == '"') { p = gw__json_str_end(p + 1, e); if (p < e) p++; continue; }
            if (*p == '{' || *p == '[') depth++;
            else if (*p == '}' || *p == ']') { if (--depth == 0) return p + 1; }
            p++;
        }
        return e;
    }
    while (p < e && *p != ',' && *p != '}' && *p != ' ' && *p != '\n' &&
           *p != '\t' && *p != '\r') p++;
    return p;
}
static inline const char *gw_json_field(const char *json, size_t len, const char *name,
                                        size_t *out_len) {
    const char *p = json, *e = json + len;
    size_t nl = strlen(name);
    p = gw__json_skip_ws(p, e);
    if (p >= e || *p != '{') return NULL;
    p++;
    for (;;) {
        p = gw__json_skip_ws(p, e);
        if (p >= e || *p != '"') return NULL;
        const char *k = p + 1, *ke = gw__json_str_end(k, e);
        if (ke >= e) return NULL;
        p = gw__json_skip_ws(ke + 1, e);
        if (p >= e || *p != ':') return NULL;
        p = gw__json_skip_ws(p + 1, e);
        const char *v = p, *ve = gw__json_skip_value(p, e);
        if ((size_t)(ke - k) == nl && memcmp(k, name, nl) == 0) {
            if (v >= e || *v == '{' || *v == '[') return NULL;
            if (*v == '"') { v++; ve = gw__json_str_end(v, e); }
            if (out_len) *out_len = (size_t)(ve - v);
            return v;
        }
        p = gw__json_skip_ws(ve, e);
        if (p >= e || *p != ',') return NULL;
        p++;
    }
}

#endif /* GW_H */
