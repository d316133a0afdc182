;; A filter for the fail-closed ingest tests: it spins forever when the
;; event data is a JSON string (starts with '"'), denies it when the data is
;; false (starts with 'f'), traps when it is true (starts with 't'), and
;; allows anything else.
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
  (func (export "gw_filter") (param i32 i32) (param $dp i32) (param $dl i32) (result i32)
    (if (i32.eqz (local.get $dl)) (then (return (i32.const 0))))
    (if (i32.eq (i32.load8_u (local.get $dp)) (i32.const 34))
      (then (loop $forever (br $forever))))
    (if (i32.eq (i32.load8_u (local.get $dp)) (i32.const 102))
      (then (return (i32.const 2))))
    (if (i32.eq (i32.load8_u (local.get $dp)) (i32.const 116))
      (then (unreachable)))
    (i32.const 0)))
