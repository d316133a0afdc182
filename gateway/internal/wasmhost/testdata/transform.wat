;; A transform that replaces the data with the meta document it was given,
;; so the test can check both output_set and the meta encoding.
(module
  (import "gw_v1" "output_set" (func $output_set (param i32 i32) (result i32)))
  (memory (export "memory") 2)
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
  (func (export "gw_transform") (param $mp i32) (param $ml i32) (param $dp i32) (param $dl i32) (result i32)
    (local $s i32)
    ;; data "keep" leaves the event unchanged, "drop" drops it.
    (if (i32.eq (local.get $dl) (i32.const 4))
      (then
        (if (i32.eq (i32.load (local.get $dp)) (i32.const 0x7065656b)) (then (return (i32.const 0))))
        (if (i32.eq (i32.load (local.get $dp)) (i32.const 0x706f7264)) (then (return (i32.const 2))))))
    (local.set $s (call $output_set (local.get $mp) (local.get $ml)))
    (if (local.get $s) (then (return (local.get $s))))
    (i32.const 1)))
