;; A module with the gw_v1 marker, memory and gw_alloc but no handler
;; export: the plugin API must refuse it with 422.
(module
  (memory (export "memory") 2)
  (func (export "gw_abi_v1"))
  (func (export "gw_alloc") (param $n i32) (result i32)
    (i32.const 65536)))
