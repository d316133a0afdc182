/* Reference transform (same behaviour as transform.wat): output_set
 * {"wrapped":DATA} and return replaced; log info "transform: wrapped". */
#include "gw.h"

GW_TRANSFORM(wrap) {
    (void)meta; (void)meta_len;
    static const char pre[] = "{\"wrapped\":";
    size_t n = sizeof pre - 1 + data_len + 1;
    char *out = (char *)malloc(n);
    if (!out) return GW_RESULT_FAILED;
    memcpy(out, pre, sizeof pre - 1);
    memcpy(out + sizeof pre - 1, data, data_len);
    out[n - 1] = '}';
    int32_t st = gw_output_set(out, n);
    free(out);
    if (st != GW_OK) return GW_RESULT_FAILED;
    gw_log(GW_LEVEL_INFO, "transform: wrapped");
    return GW_REPLACED;
}
