/* Reference filter (same behaviour as filter.wat):
 *  - kv_get "block": when the key exists, reason "blocked" and deny;
 *  - kv_incr "count:USER" by 1 (TTL 60 s), where USER is the data's
 *    top-level string field "user" (empty when missing), log info
 *    "filter: counted",
 *    metric_add "filtered" 1;
 *  - when the count is over config "limit" (decimal, missing = 0), reason
 *    "over limit" and deny; otherwise allow. */
#include "gw.h"

GW_FILTER(filter) {
    (void)meta; (void)meta_len;
    int32_t st;
    char *v = gw_kv_get("block", 5, NULL, &st);
    if (v) {
        free(v);
        gw_reason_set("blocked");
        return GW_DENY;
    }
    size_t ulen = 0;
    const char *user = gw_json_field(data, data_len, "user", &ulen);
    if (!user || ulen > 1024) ulen = 0;
    char key[6 + 1024];
    memcpy(key, "count:", 6);
    if (ulen) memcpy(key + 6, user, ulen);
    int64_t n;
    if (gw_kv_incr(key, 6 + ulen, 1, 60000, &n) != GW_OK) return GW_RESULT_FAILED;
    gw_log(GW_LEVEL_INFO, "filter: counted");
    gw_metric_add("filtered", 1);
    if (n > gw_config_int("limit", 0)) {
        gw_reason_set("over limit");
        return GW_DENY;
    }
    return GW_ALLOW;
}
