;; A filter that computes fib(60) by naive recursion: 2^60 calls and not
;; one loop, so only the host's entry guard (interrupt.go) lets the
;; deadline end it. The data "R" makes it recurse without end instead,
;; which must hit the stack limit; "f" computes fib(20) and allows (the
;; benchmark of the entry guard). Other data is allowed at once.
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
  (func $fib (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else (i64.add (call $fib (i64.sub (local.get $n) (i64.const 1)))
                     (call $fib (i64.sub (local.get $n) (i64.const 2)))))))
  (func $forever (param $n i64) (result i64)
    (i64.add (call $forever (i64.add (local.get $n) (i64.const 1))) (i64.const 1)))
  (func (export "gw_filter") (param i32 i32) (param $dp i32) (param $dl i32) (result i32)
    (if (i32.eqz (local.get $dl)) (then (return (i32.const 0))))
    (if (i32.eq (i32.load8_u (local.get $dp)) (i32.const 70)) ;; "F"
      (then (return (i32.wrap_i64 (i64.and (call $fib (i64.const 60)) (i64.const 0))))))
    (if (i32.eq (i32.load8_u (local.get $dp)) (i32.const 102)) ;; "f": fib(20), 21891 calls
      (then (return (i32.wrap_i64 (i64.and (call $fib (i64.const 20)) (i64.const 0))))))
    (if (i32.eq (i32.load8_u (local.get $dp)) (i32.const 82)) ;; "R"
      (then (return (i32.wrap_i64 (i64.and (call $forever (i64.const 0)) (i64.const 0))))))
    (i32.const 0)))
