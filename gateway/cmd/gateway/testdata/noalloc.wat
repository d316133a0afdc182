;; A filter without gw_alloc: the host refuses it at load.
(module
  (memory (export "memory") 1)
  (func (export "gw_abi_v1"))
  (func (export "gw_filter") (param i32 i32 i32 i32) (result i32) (i32.const 0)))
