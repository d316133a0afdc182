;; A conformance guest: a filter that calls every gw_v1 function and checks
;; each status. It returns flag when all is well, or -(100+step) at the first
;; step that got an unexpected answer. Needs config k=v and an empty KV.
(module
  (import "gw_v1" "log" (func $log (param i32 i32 i32)))
  (import "gw_v1" "config_get" (func $config_get (param i32 i32 i32 i32) (result i32)))
  (import "gw_v1" "kv_get" (func $kv_get (param i32 i32 i32 i32) (result i32)))
  (import "gw_v1" "kv_set" (func $kv_set (param i32 i32 i32 i32 i64) (result i32)))
  (import "gw_v1" "kv_delete" (func $kv_delete (param i32 i32) (result i32)))
  (import "gw_v1" "kv_incr" (func $kv_incr (param i32 i32 i64 i64 i32) (result i32)))
  (import "gw_v1" "metric_add" (func $metric_add (param i32 i32 i64) (result i32)))
  (import "gw_v1" "output_set" (func $output_set (param i32 i32) (result i32)))
  (import "gw_v1" "reason_set" (func $reason_set (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "hello from everything")
  (data (i32.const 48) "k")
  (data (i32.const 56) "a")
  (data (i32.const 64) "xyz")
  (data (i32.const 72) "missing")
  (data (i32.const 88) "n")
  (data (i32.const 96) "m")
  (data (i32.const 112) "all good")
  (func (export "gw_abi_v1"))
  (func (export "gw_alloc") (param $n i32) (result i32)
    (local $need i32)
    (local.set $need
      (i32.shr_u (i32.add (local.get $n) (i32.const 131071)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $need) (memory.size))))))
    (i32.const 65536))
  (func $expect (param $got i32) (param $want i32) (param $step i32)
    (if (i32.ne (local.get $got) (local.get $want))
      (then (global.set $failed (i32.sub (i32.const -100) (local.get $step))))))
  (global $failed (mut i32) (i32.const 0))
  (func (export "gw_filter") (param i32 i32 i32 i32) (result i32)
    (global.set $failed (i32.const 0))
    (call $log (i32.const 1) (i32.const 16) (i32.const 21))
    ;; 1: config_get k -> 1, value "v"
    (call $expect (call $config_get (i32.const 48) (i32.const 1) (i32.const 512) (i32.const 8)) (i32.const 1) (i32.const 1))
    (call $expect (i32.load8_u (i32.const 512)) (i32.const 118) (i32.const 2))
    ;; 3: config_get missing -> not found
    (call $expect (call $config_get (i32.const 72) (i32.const 7) (i32.const 512) (i32.const 8)) (i32.const -1) (i32.const 3))
    ;; 4-6: kv_set a=xyz, kv_get a -> 3 and the bytes, kv_get missing -> -1
    (call $expect (call $kv_set (i32.const 56) (i32.const 1) (i32.const 64) (i32.const 3) (i64.const 0)) (i32.const 0) (i32.const 4))
    (call $expect (call $kv_get (i32.const 56) (i32.const 1) (i32.const 520) (i32.const 8)) (i32.const 3) (i32.const 5))
    (call $expect (i32.load8_u (i32.const 522)) (i32.const 122) (i32.const 6))
    (call $expect (call $kv_get (i32.const 72) (i32.const 7) (i32.const 520) (i32.const 8)) (i32.const -1) (i32.const 7))
    ;; 8: kv_get with a small buffer returns the length and writes nothing
    (i32.store8 (i32.const 530) (i32.const 0))
    (call $expect (call $kv_get (i32.const 56) (i32.const 1) (i32.const 530) (i32.const 1)) (i32.const 3) (i32.const 8))
    (call $expect (i32.load8_u (i32.const 530)) (i32.const 0) (i32.const 9))
    ;; 10-11: kv_delete a, then it is gone
    (call $expect (call $kv_delete (i32.const 56) (i32.const 1)) (i32.const 0) (i32.const 10))
    (call $expect (call $kv_get (i32.const 56) (i32.const 1) (i32.const 520) (i32.const 8)) (i32.const -1) (i32.const 11))
    ;; 12-14: kv_incr n by 5 twice -> 10, written at 544; empty key invalid
    (call $expect (call $kv_incr (i32.const 88) (i32.const 1) (i64.const 5) (i64.const 60000) (i32.const 544)) (i32.const 0) (i32.const 12))
    (call $expect (call $kv_incr (i32.const 88) (i32.const 1) (i64.const 5) (i64.const 60000) (i32.const 544)) (i32.const 0) (i32.const 13))
    (call $expect (i32.wrap_i64 (i64.load (i32.const 544))) (i32.const 10) (i32.const 14))
    (call $expect (call $kv_set (i32.const 56) (i32.const 0) (i32.const 64) (i32.const 3) (i64.const 0)) (i32.const -4) (i32.const 15))
    ;; 16-17: metric_add m, and an empty name is invalid
    (call $expect (call $metric_add (i32.const 96) (i32.const 1) (i64.const 2)) (i32.const 0) (i32.const 16))
    (call $expect (call $metric_add (i32.const 96) (i32.const 0) (i64.const 1)) (i32.const -4) (i32.const 17))
    ;; 18: output_set is for transforms
    (call $expect (call $output_set (i32.const 64) (i32.const 3)) (i32.const -6) (i32.const 18))
    ;; 19: a reason over 1 KiB is too large; 20: a good one is taken
    (call $expect (call $reason_set (i32.const 0) (i32.const 2000)) (i32.const -2) (i32.const 19))
    (call $expect (call $reason_set (i32.const 112) (i32.const 8)) (i32.const 0) (i32.const 20))
    ;; 21: kv_set with a value over 64 KiB is too large
    (call $expect (call $kv_set (i32.const 56) (i32.const 1) (i32.const 0) (i32.const 70000) (i64.const 0)) (i32.const -2) (i32.const 21))
    (if (global.get $failed) (then (return (global.get $failed))))
    (i32.const 1)))
