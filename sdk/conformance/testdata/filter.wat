;; Reference filter (same behaviour as filter.c):
;;  - kv_get "block": when the key exists, reason "blocked" and deny;
;;  - kv_incr "count:USER" by 1 (TTL 60 s), where USER is the data's
;;    top-level string field "user" (empty when missing; this WAT finds the
;;    first "user":" in the data, which is the same for the compact, flat
;;    JSON the conformance table sends), log info "filter: counted",
;;    metric_add "filtered" 1;
;;  - when the count is over config "limit" (decimal, missing = 0), reason
;;    "over limit" and deny; otherwise allow.
(module
  (import "gw_v1" "log" (func $log (param i32 i32 i32)))
  (import "gw_v1" "config_get" (func $config_get (param i32 i32 i32 i32) (result i32)))
  (import "gw_v1" "kv_get" (func $kv_get (param i32 i32 i32 i32) (result i32)))
  (import "gw_v1" "kv_incr" (func $kv_incr (param i32 i32 i64 i64 i32) (result i32)))
  (import "gw_v1" "metric_add" (func $metric_add (param i32 i32 i64) (result i32)))
  (import "gw_v1" "reason_set" (func $reason_set (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "block")
  (data (i32.const 32) "blocked")
  (data (i32.const 64) "filter: counted")
  (data (i32.const 96) "filtered")
  (data (i32.const 112) "limit")
  (data (i32.const 128) "over limit")
  (data (i32.const 160) "\"user\":\"")
  (data (i32.const 512) "count:")
  ;; 256: kv_get buffer (8 bytes); 272: kv_incr out; 288: config buffer (32);
  ;; 512: the counter key, "count:" then the user (at most 1024 bytes)
  (func (export "gw_abi_v1"))
  (func (export "gw_alloc") (param $n i32) (result i32)
    (local $need i32)
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $need
      (i32.shr_u (i32.add (local.get $n) (i32.const 131071)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $need) (memory.size))))))
    (i32.const 65536))
  (func $limit (result i64)
    (local $n i32) (local $i i32) (local $v i64) (local $c i32)
    (local.set $n (call $config_get (i32.const 112) (i32.const 5) (i32.const 288) (i32.const 32)))
    (if (i32.or (i32.lt_s (local.get $n) (i32.const 1)) (i32.gt_s (local.get $n) (i32.const 18)))
      (then (return (i64.const 0))))
    (block $done
      (loop $digits
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.sub (i32.load8_u (i32.add (i32.const 288) (local.get $i))) (i32.const 48)))
        (if (i32.gt_u (local.get $c) (i32.const 9)) (then (return (i64.const 0))))
        (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $digits)))
    (local.get $v))
  ;; $user copies the "user" field after "count:" at 512 and returns the
  ;; key's length.
  (func $user (param $dp i32) (param $dl i32) (result i32)
    (local $i i32) (local $end i32) (local $s i32)
    (local.set $end (i32.add (local.get $dp) (local.get $dl)))
    (local.set $i (local.get $dp))
    (block $notfound
      (loop $scan
        (br_if $notfound (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $end)))
        (if (i64.ne (i64.load (local.get $i)) (i64.load (i32.const 160)))
          (then
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $scan))))
      (local.set $s (i32.add (local.get $i) (i32.const 8)))
      (local.set $i (local.get $s))
      (loop $value
        (br_if $notfound (i32.ge_u (local.get $i) (local.get $end)))
        (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 34))
          (then
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $value))))
      (if (i32.gt_u (i32.sub (local.get $i) (local.get $s)) (i32.const 1024))
        (then (br $notfound)))
      (memory.copy (i32.const 518) (local.get $s) (i32.sub (local.get $i) (local.get $s)))
      (return (i32.add (i32.const 6) (i32.sub (local.get $i) (local.get $s)))))
    (i32.const 6))
  (func (export "gw_filter") (param $mp i32) (param $ml i32) (param $dp i32) (param $dl i32) (result i32)
    (if (i32.ge_s (call $kv_get (i32.const 16) (i32.const 5) (i32.const 256) (i32.const 8)) (i32.const 0))
      (then
        (drop (call $reason_set (i32.const 32) (i32.const 7)))
        (return (i32.const 2))))
    (if (call $kv_incr (i32.const 512) (call $user (local.get $dp) (local.get $dl)) (i64.const 1) (i64.const 60000) (i32.const 272))
      (then (return (i32.const -1))))
    (call $log (i32.const 1) (i32.const 64) (i32.const 15))
    (drop (call $metric_add (i32.const 96) (i32.const 8) (i64.const 1)))
    (if (i64.gt_s (i64.load (i32.const 272)) (call $limit))
      (then
        (drop (call $reason_set (i32.const 128) (i32.const 10)))
        (return (i32.const 2))))
    (i32.const 0)))
