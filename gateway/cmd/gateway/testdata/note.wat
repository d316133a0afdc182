;; A filter that logs a line and flags every event with its config value
;; "note" as the reason; without the key it denies with "no note".
(module
  (import "gw_v1" "log" (func $log (param i32 i32 i32)))
  (import "gw_v1" "config_get" (func $config_get (param i32 i32 i32 i32) (result i32)))
  (import "gw_v1" "reason_set" (func $reason_set (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "note")
  (data (i32.const 32) "checking an event")
  (data (i32.const 64) "no note")
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
  (func (export "gw_filter") (param i32 i32 i32 i32) (result i32)
    (local $n i32)
    (call $log (i32.const 1) (i32.const 32) (i32.const 17))
    ;; the value goes to 1024, with room for 1024 bytes
    (local.set $n (call $config_get (i32.const 16) (i32.const 4) (i32.const 1024) (i32.const 1024)))
    (if (i32.lt_s (local.get $n) (i32.const 0))
      (then
        (drop (call $reason_set (i32.const 64) (i32.const 7)))
        (return (i32.const 2))))
    (drop (call $reason_set (i32.const 1024) (local.get $n)))
    (i32.const 1)))
