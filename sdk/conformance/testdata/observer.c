/* Reference observer (same behaviour as observer.wat): kv_set "last" to the
 * event data (no TTL), kv_delete "tmp", log debug "observe: stored". */
#include "gw.h"

GW_OBSERVE(observe) {
    (void)meta; (void)meta_len;
    if (gw_kv_set("last", 4, data, data_len, 0) != GW_OK) return GW_RESULT_FAILED;
    if (gw_kv_delete("tmp", 3) != GW_OK) return GW_RESULT_FAILED;
    gw_log(GW_LEVEL_DEBUG, "observe: stored");
    return GW_OBSERVE_OK;
}
