;; An observer that logs, counts events in KV with kv_incr and adds to the
;; metric "seen".
(module
  (import "gw_v1" "log" (func $log (param i32 i32 i32)))
  (import "gw_v1" "kv_incr" (func $kv_incr (param i32 i32 i64 i64 i32) (result i32)))
  (import "gw_v1" "metric_add" (func $metric_add (param i32 i32 i64) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "observed an event")
  (data (i32.const 48) "count")
  (data (i32.const 64) "seen")
  (func (export "gw_abi_v1"))
  ;; gw_alloc hands out one buffer at 64 KiB, growing memory to fit; the
  ;; host makes one call at a time per instance, so one buffer is enough.
  (func (export "gw_alloc") (param $n i32) (result i32)
    (local $need i32)
    (local.set $need
      (i32.shr_u (i32.add (local.get $n) (i32.const 131071)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $need) (memory.size))))))
    (i32.const 65536))
  (func (export "gw_observe") (param i32 i32 i32 i32) (result i32)
    (local $s i32)
    (call $log (i32.const 1) (i32.const 16) (i32.const 17))
    (local.set $s (call $kv_incr (i32.const 48) (i32.const 5) (i64.const 1) (i64.const 60000) (i32.const 128)))
    (if (local.get $s) (then (return (local.get $s))))
    (local.set $s (call $metric_add (i32.const 64) (i32.const 4) (i64.const 1)))
    (if (local.get $s) (then (return (local.get $s))))
    (i32.const 0)))
