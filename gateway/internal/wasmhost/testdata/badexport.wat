;; gw_alloc and gw_filter with the wrong signatures.
(module
  (memory (export "memory") 1)
  (func (export "gw_abi_v1"))
  (func (export "gw_alloc") (param i64) (result i32) (i32.const 1024))
  (func (export "gw_filter") (param i32 i32) (result i32) (i32.const 0)))
