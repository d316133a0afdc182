;; A transform that hands output_set 2 MiB (over the 1 MiB cap) and returns
;; the status it got, so a -2 (StatusTooLarge) surfaces as a plugin error.
(module
  (import "gw_v1" "output_set" (func $output_set (param i32 i32) (result i32)))
  (memory (export "memory") 40)
  (func (export "gw_abi_v1"))
  (func (export "gw_alloc") (param $n i32) (result i32)
    (local $need i32)
    (local.set $need
      (i32.shr_u (i32.add (local.get $n) (i32.const 131071)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $need) (memory.size))))))
    (i32.const 65536))
  (func (export "gw_transform") (param i32 i32 i32 i32) (result i32)
    (local $s i32)
    (local.set $s (call $output_set (i32.const 0) (i32.const 2097152)))
    (if (local.get $s) (then (return (local.get $s))))
    (i32.const 1)))
