package abi

// Module is the import module name of the gw_v1 host functions.
const Module = "gw_v1"

// Export names.
const (
	ExportMemory     = "memory"
	ExportInitialize = "_initialize"
	ExportMarker     = "gw_abi_v1"
	ExportAlloc      = "gw_alloc"
	ExportObserve    = "gw_observe"
	ExportFilter     = "gw_filter"
	ExportTransform  = "gw_transform"
	// ExportKind declares the kind; required when more than one handler is
	// exported (see the package doc).
	ExportKind = "gw_kind"
)

// Codes gw_kind returns.
const (
	KindCodeObserver  int32 = 0
	KindCodeFilter    int32 = 1
	KindCodeTransform int32 = 2
	// KindCodeNone: no handler was registered (a Go plugin whose init
	// called none of sdk.Filter, sdk.Transform, sdk.Observe). The host
	// refuses the plugin.
	KindCodeNone int32 = -1
)

// Host function names in Module.
const (
	FuncLog       = "log"
	FuncConfigGet = "config_get"
	FuncKVGet     = "kv_get"
	FuncKVSet     = "kv_set"
	FuncKVDelete  = "kv_delete"
	FuncKVIncr    = "kv_incr"
	FuncMetricAdd = "metric_add"
	FuncOutputSet = "output_set"
	FuncReasonSet = "reason_set"
)

// Kind is what a plugin does with an event; it is named by the one handler
// the plugin exports.
type Kind string

// Plugin kinds.
const (
	KindObserver  Kind = "observer"
	KindFilter    Kind = "filter"
	KindTransform Kind = "transform"
)

// Code returns the gw_kind code of kind k, or KindCodeNone.
func (k Kind) Code() int32 {
	switch k {
	case KindObserver:
		return KindCodeObserver
	case KindFilter:
		return KindCodeFilter
	case KindTransform:
		return KindCodeTransform
	}
	return KindCodeNone
}

// KindOf returns the kind a gw_kind code names; ok is false for any other
// code, KindCodeNone included.
func KindOf(code int32) (k Kind, ok bool) {
	switch code {
	case KindCodeObserver:
		return KindObserver, true
	case KindCodeFilter:
		return KindFilter, true
	case KindCodeTransform:
		return KindTransform, true
	}
	return "", false
}

// Export returns the handler export of kind k.
func (k Kind) Export() string {
	switch k {
	case KindObserver:
		return ExportObserve
	case KindFilter:
		return ExportFilter
	case KindTransform:
		return ExportTransform
	}
	return ""
}

// Handler results.
const (
	// ObserveOK is gw_observe's success.
	ObserveOK int32 = 0

	// Allow lets the event through (gw_filter).
	Allow int32 = 0
	// Flag lets the event through and records the reason (gw_filter).
	Flag int32 = 1
	// Deny stops the event (gw_filter); the reason is recorded.
	Deny int32 = 2

	// Unchanged keeps the data as it was (gw_transform).
	Unchanged int32 = 0
	// Replaced uses the bytes given to output_set (gw_transform).
	Replaced int32 = 1
	// Drop stops the event for this stage (gw_transform).
	Drop int32 = 2
)

// Negative handler results. Any negative result is a plugin error; these are
// the ones the Go SDK returns (after logging the cause), so the host can tell
// them apart.
const (
	// ResultFailed: the plugin's handler returned an error, or its output
	// or reason was refused.
	ResultFailed int32 = -1
	// ResultWrongKind: the handler called is not the plugin's kind (see
	// gw_kind), or no handler was registered.
	ResultWrongKind int32 = -2
	// ResultBadInput: the pointers were not inside the buffer of the latest
	// gw_alloc, or the meta document was malformed.
	ResultBadInput int32 = -3
)

// Status is what a host function returns: StatusOK or a negative code.
type Status = int32

// Host function statuses.
const (
	StatusOK Status = 0
	// StatusNotFound: no such config key or KV key.
	StatusNotFound Status = -1
	// StatusTooLarge: a value is over its limit (output, reason, KV value).
	StatusTooLarge Status = -2
	// StatusQuota: the plugin's KV store is full, or metric_add names a
	// new metric when the plugin already has the host's maximum of
	// metric names.
	StatusQuota Status = -3
	// StatusInvalid: an argument is malformed: an empty key or one over
	// MaxKVKeyBytes, an empty metric name or one over
	// MaxMetricName, a kv_incr on a value that is not 8 bytes, a negative
	// TTL.
	StatusInvalid Status = -4
	// StatusUnavailable: the host could not serve the call (a storage
	// error); the guest may carry on without it.
	StatusUnavailable Status = -5
	// StatusWrongKind: the function does not apply to this plugin's kind
	// (output_set outside a transform, reason_set outside a filter).
	StatusWrongKind Status = -6
)

// Log levels for log.
const (
	LevelDebug int32 = 0
	LevelInfo  int32 = 1
	LevelWarn  int32 = 2
	LevelError int32 = 3
)

// Limits the host enforces.
const (
	MaxOutputBytes  = 1 << 20 // output_set
	MaxReasonBytes  = 1 << 10 // reason_set
	MaxLogLineBytes = 4 << 10 // longer log lines are cut
	MaxKVKeyBytes   = 256
	MaxKVValueBytes = 64 << 10
	MaxMetricName   = 128
)

// Meta is the JSON document passed with every call.
type Meta struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Source string `json:"source,omitempty"`
	// Time is RFC 3339 with nanoseconds.
	Time string `json:"time"`
	// WebhookID is set when a transform runs for one webhook's copy.
	WebhookID string `json:"webhook_id,omitempty"`
}
