//go:build ignore

// The line above keeps the go command from treating this directory as a cgo
// package (it skips filter.c); clang ignores it, as it is a comment.

/* filter.c: a small gateway filter in C, built with sdk/c/gw.h.
 *
 * For each event it sees, it reads two top-level fields of the data:
 *  - "country": when it is one of config "blocked" (comma-separated, spaces
 *    around entries ignored), the event is denied with the reason
 *    "country XX is blocked";
 *  - "amount": when it is a number above config "flag_above", the event is
 *    flagged (still delivered) with the reason
 *    "amount N is above flag_above M";
 * otherwise it is allowed. A missing or non-numeric flag_above flags
 * nothing; a missing blocked list blocks nothing.
 *
 * Build (from the repository root):
 *
 *   clang --target=wasm32-wasi -mexec-model=reactor -O2 -I sdk/c \
 *         -o examples/c-plugin/filter.wasm examples/c-plugin/filter.c
 */
#include "gw.h"

/* in_list reports whether s[0:n] is one of the comma-separated entries of
 * list (entries are trimmed of spaces). */
static int in_list(const char *list, const char *s, size_t n) {
    const char *p = list;
    while (*p) {
        while (*p == ' ') p++;
        const char *start = p;
        while (*p && *p != ',') p++;
        const char *end = p;
        while (end > start && end[-1] == ' ') end--;
        if ((size_t)(end - start) == n && n > 0 && memcmp(start, s, n) == 0) return 1;
        if (*p == ',') p++;
    }
    return 0;
}

/* append copies s[0:n] to the reason buffer at *at, leaving room for the
 * terminating NUL, and returns the new end. */
static char *append(char *at, const char *end, const char *s, size_t n) {
    while (n-- > 0 && at < end - 1) *at++ = *s++;
    *at = 0;
    return at;
}

/* parse_number parses s[0:n] as a whole decimal number into *out. */
static int parse_number(const char *s, size_t n, double *out) {
    char buf[64];
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    *out = strtod(buf, &end);
    return *end == 0;
}

GW_FILTER(check) {
    char reason[256];

    size_t clen = 0;
    const char *country = gw_json_field(data, data_len, "country", &clen);
    if (country && clen > 0) {
        char *blocked = gw_config_get("blocked", NULL);
        int hit = blocked && in_list(blocked, country, clen);
        free(blocked);
        if (hit) {
            char *at = reason, *end = reason + sizeof reason;
            at = append(at, end, "country ", 8);
            at = append(at, end, country, clen > 64 ? 64 : clen);
            append(at, end, " is blocked", 11);
            gw_reason_set(reason);
            return GW_DENY;
        }
    }

    size_t alen = 0;
    const char *amount = gw_json_field(data, data_len, "amount", &alen);
    double a;
    if (amount && parse_number(amount, alen, &a)) {
        size_t tlen = 0;
        char *limit = gw_config_get("flag_above", &tlen);
        double max;
        int flag = limit && parse_number(limit, tlen, &max) && a > max;
        if (flag) {
            char *at = reason, *end = reason + sizeof reason;
            at = append(at, end, "amount ", 7);
            at = append(at, end, amount, alen);
            at = append(at, end, " is above flag_above ", 21);
            append(at, end, limit, tlen);
            gw_reason_set(reason);
        }
        free(limit);
        if (flag) return GW_FLAG;
    }
    return GW_ALLOW;
}
