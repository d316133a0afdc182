;; A filter whose gw_alloc returns 0 (it cannot allocate) when memory holds
;; the byte 1 at address 8, which its first call sets; the first call is
;; served from a real buffer.
(module
  (memory (export "memory") 1)
  (func (export "gw_abi_v1"))
  (func (export "gw_alloc") (param i32) (result i32)
    (if (result i32) (i32.load8_u (i32.const 8))
      (then (i32.const 0))
      (else (i32.store8 (i32.const 8) (i32.const 1)) (i32.const 1024))))
  (func (export "gw_filter") (param i32 i32 i32 i32) (result i32) (i32.const 0)))
