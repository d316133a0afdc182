;; A filter whose verdict is the first byte of the data minus '0', so a
;; caller can check it got the answer to its own event ("0" allow, "1" flag,
;; "2" deny). Used by the hammer test and the benchmark.
(module
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
  (func (export "gw_filter") (param $mp i32) (param $ml i32) (param $dp i32) (param $dl i32) (result i32)
    (if (i32.eqz (local.get $dl)) (then (return (i32.const 0))))
    (i32.sub (i32.load8_u (local.get $dp)) (i32.const 48))))
