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
	// ExportKind is required when more than one handler is exported.
	ExportKind = "gw_kind"
)

// Codes gw_kind returns.
const (
	KindCodeObserver  int32 = 0
	KindCodeFilter    int32 = 1
	KindCodeTransform int32 = 2
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

// Status is what a host function returns: StatusOK or a negative code.
type Status = int32

// Host function statuses.
const (
	StatusOK Status = 0
	// StatusNotFound: no such config key or KV key.
	StatusNotFound Status = -1
	// StatusTooLarge: a value is over its limit (output, reason, KV value).
	StatusTooLarge Status = -2
	// StatusQuota: the plugin's KV store is full.
	StatusQuota Status = -3
	// StatusInvalid: an argument is malformed (an empty key, a bad level).
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
