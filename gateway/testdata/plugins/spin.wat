;; A filter that never returns: every call ends at its deadline. The audit
;; test's plugin timeout.
(module
  (memory (export "memory") 2)
  (func (export "gw_abi_v1"))
  (func (export "gw_alloc") (param $n i32) (result i32)
    (local $need i32)
    (local.set $need
      (i32.shr_u (i32.add (local.get $n) (i32.const 131071)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $need) (memory.size))))))
    (i32.const 65536))
  (func (export "gw_filter") (param i32 i32 i32 i32) (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
