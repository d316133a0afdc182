;; A filter that spins forever when the data starts with "L", else allows
;; (a copy of wasmhost's fixture), for the timeout test.
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
  (func (export "gw_filter") (param i32) (param i32) (param $dp i32) (param $dl i32) (result i32)
    (if (i32.and (i32.gt_u (local.get $dl) (i32.const 0)) (i32.eq (i32.load8_u (local.get $dp)) (i32.const 76)))
      (then (loop $forever (br $forever))))
    (i32.const 0)))
