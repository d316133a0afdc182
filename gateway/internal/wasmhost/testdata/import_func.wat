;; Imports a gw_v1 function that does not exist, and a WASI one that does not.
(module
  (import "gw_v1" "http_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_open" (func (param i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "gw_abi_v1"))
  (func (export "gw_alloc") (param $n i32) (result i32)
    (local $need i32)
    (local.set $need
      (i32.shr_u (i32.add (local.get $n) (i32.const 131071)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $need) (memory.size))))))
    (i32.const 65536))
  (func (export "gw_filter") (param i32 i32 i32 i32) (result i32) (i32.const 0)))
