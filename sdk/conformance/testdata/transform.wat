;; Reference transform (same behaviour as transform.c): output_set
;; {"wrapped":DATA} and return replaced; log info "transform: wrapped".
(module
  (import "gw_v1" "log" (func $log (param i32 i32 i32)))
  (import "gw_v1" "output_set" (func $output_set (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "{\"wrapped\":")
  (data (i32.const 32) "transform: wrapped")
  (func (export "gw_abi_v1"))
  ;; The input buffer starts at 65536 and the output goes right after it,
  ;; so reserve twice the size plus room for the wrapper.
  (func (export "gw_alloc") (param $n i32) (result i32)
    (local $need i32)
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $need
      (i32.shr_u (i32.add (i32.add (local.get $n) (local.get $n)) (i32.const 131136)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $need) (memory.size))))))
    (i32.const 65536))
  (func (export "gw_transform") (param $mp i32) (param $ml i32) (param $dp i32) (param $dl i32) (result i32)
    (local $out i32)
    (local.set $out (i32.add (local.get $dp) (local.get $dl)))
    (memory.copy (local.get $out) (i32.const 16) (i32.const 11))
    (memory.copy (i32.add (local.get $out) (i32.const 11)) (local.get $dp) (local.get $dl))
    (i32.store8 (i32.add (i32.add (local.get $out) (i32.const 11)) (local.get $dl)) (i32.const 125))
    (if (call $output_set (local.get $out) (i32.add (local.get $dl) (i32.const 12)))
      (then (return (i32.const -1))))
    (call $log (i32.const 1) (i32.const 32) (i32.const 18))
    (i32.const 1)))
