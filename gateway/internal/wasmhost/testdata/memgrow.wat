;; A filter that tries to grow its memory by 1000 pages (64 MiB), past any
;; sane limit. Data "g": returns -7 when the grow fails (a plugin error).
;; Data "t": traps when the grow fails. Anything else: allows.
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
    (local $c i32)
    (if (i32.eqz (local.get $dl)) (then (return (i32.const 0))))
    (local.set $c (i32.load8_u (local.get $dp)))
    (if (i32.and (i32.ne (local.get $c) (i32.const 103)) (i32.ne (local.get $c) (i32.const 116)))
      (then (return (i32.const 0))))
    (if (i32.eq (memory.grow (i32.const 1000)) (i32.const -1))
      (then
        (if (i32.eq (local.get $c) (i32.const 116)) (then unreachable))
        (return (i32.const -7))))
    (i32.const 0)))
