;; filter.wat: examples/c-plugin/filter.c written by hand in WAT, for the
;; by-language benchmarks (lang_bench_test.go). Same verdicts and reasons:
;;
;;   - data.country in config "blocked" (comma-separated, spaces around
;;     entries ignored): deny, reason "country XX is blocked" (XX cut to 64
;;     bytes);
;;   - data.amount, a number, above config "flag_above": flag, reason
;;     "amount N is above flag_above M", N and M as written;
;;   - otherwise allow. A missing or non-numeric flag_above flags nothing; a
;;     missing blocked list blocks nothing.
;;
;; Unlike gw.h's gw_json_field, it does not walk the JSON: it scans the bytes
;; for `"country":"` and `"amount":`. That is right for compact, flat JSON
;; (no space around the colon, no member of the same name nested or earlier
;; in a string), which is what the benchmarks send; it is not a parser.
;; Numbers are decimal (sign, digits, fraction, exponent) and under 64 bytes,
;; like filter.c's parse_number (strtod also takes hex, inf, nan and leading
;; spaces; this does not). A config value over 4 KiB counts as missing.
;;
;; Build: wat2wasm filter.wat -o filter.wasm
(module
  (import "gw_v1" "config_get" (func $config_get (param i32 i32 i32 i32) (result i32)))
  (import "gw_v1" "reason_set" (func $reason_set (param i32 i32) (result i32)))
  (memory (export "memory") 2)

  ;; Constants, below 1 KiB.
  (data (i32.const 16) "blocked")                ;; 7 bytes
  (data (i32.const 32) "flag_above")             ;; 10
  (data (i32.const 48) "country ")               ;; 8
  (data (i32.const 64) " is blocked")            ;; 11
  (data (i32.const 80) "amount ")                ;; 7
  (data (i32.const 96) " is above flag_above ")  ;; 21
  (data (i32.const 128) "\"country\":\"")        ;; 11
  (data (i32.const 144) "\"amount\":")           ;; 9

  ;; Buffers: config "blocked" at 4096 and "flag_above" at 8192 (4 KiB
  ;; each), the reason at 12288. The event is at 65536 (gw_alloc).

  ;; $num is the value $parse read.
  (global $num (mut f64) (f64.const 0))

  (func (export "gw_abi_v1"))

  ;; gw_alloc hands out one buffer at 64 KiB, growing memory to fit; the
  ;; host makes one call at a time per instance, so one buffer is enough.
  (func (export "gw_alloc") (param $n i32) (result i32)
    (local $need i32)
    (local.set $need
      (i32.shr_u (i32.add (local.get $n) (i32.const 131071)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $need) (memory.size))))))
    (i32.const 65536))

  ;; $eq reports whether a[0:n] == b[0:n].
  (func $eq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $done
      (loop $cmp
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b)))
          (then (return (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $cmp)))
    (i32.const 1))

  ;; $find returns the address just after the first pat[0:pl] in p[0:n], or
  ;; 0 when there is none.
  (func $find (param $p i32) (param $n i32) (param $pat i32) (param $pl i32) (result i32)
    (local $last i32) (local $c i32)
    (if (i32.lt_u (local.get $n) (local.get $pl)) (then (return (i32.const 0))))
    (local.set $last (i32.sub (i32.add (local.get $p) (local.get $n)) (local.get $pl)))
    (local.set $c (i32.load8_u (local.get $pat)))
    (block $done
      (loop $scan
        (br_if $done (i32.gt_u (local.get $p) (local.get $last)))
        (if (i32.eq (i32.load8_u (local.get $p)) (local.get $c))
          (then
            (if (call $eq (local.get $p) (local.get $pat) (local.get $pl))
              (then (return (i32.add (local.get $p) (local.get $pl)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $scan)))
    (i32.const 0))

  ;; $in_list reports whether s[0:sn] is one of the comma-separated entries
  ;; of l[0:ln], each trimmed of spaces.
  (func $in_list (param $l i32) (param $ln i32) (param $s i32) (param $sn i32) (result i32)
    (local $end i32) (local $start i32) (local $e i32)
    (local.set $end (i32.add (local.get $l) (local.get $ln)))
    (block $done
      (loop $entry
        (br_if $done (i32.ge_u (local.get $l) (local.get $end)))
        ;; Skip leading spaces.
        (block $b
          (loop $sp
            (br_if $b (i32.ge_u (local.get $l) (local.get $end)))
            (br_if $b (i32.ne (i32.load8_u (local.get $l)) (i32.const 32)))
            (local.set $l (i32.add (local.get $l) (i32.const 1)))
            (br $sp)))
        (local.set $start (local.get $l))
        ;; Run to the comma or the end.
        (block $b
          (loop $tok
            (br_if $b (i32.ge_u (local.get $l) (local.get $end)))
            (br_if $b (i32.eq (i32.load8_u (local.get $l)) (i32.const 44)))
            (local.set $l (i32.add (local.get $l) (i32.const 1)))
            (br $tok)))
        ;; Trim trailing spaces.
        (local.set $e (local.get $l))
        (block $b
          (loop $tr
            (br_if $b (i32.le_u (local.get $e) (local.get $start)))
            (br_if $b (i32.ne (i32.load8_u (i32.sub (local.get $e) (i32.const 1))) (i32.const 32)))
            (local.set $e (i32.sub (local.get $e) (i32.const 1)))
            (br $tr)))
        (if (i32.eq (i32.sub (local.get $e) (local.get $start)) (local.get $sn))
          (then
            (if (call $eq (local.get $start) (local.get $s) (local.get $sn))
              (then (return (i32.const 1))))))
        ;; Step over the comma.
        (local.set $l (i32.add (local.get $l) (i32.const 1)))
        (br $entry)))
    (i32.const 0))

  ;; $digit returns the decimal digit at p, or -1.
  (func $digit (param $p i32) (result i32)
    (local $d i32)
    (local.set $d (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
    (if (result i32) (i32.lt_u (local.get $d) (i32.const 10))
      (then (local.get $d))
      (else (i32.const -1))))

  ;; $parse parses p[0:n] as a whole decimal number into $num and reports
  ;; whether it was one.
  (func $parse (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $neg i32) (local $v f64) (local $scale f64)
    (local $digits i32) (local $d i32) (local $c i32)
    (local $exp i32) (local $eneg i32) (local $edigits i32)
    (if (i32.or (i32.eqz (local.get $n)) (i32.ge_u (local.get $n) (i32.const 64)))
      (then (return (i32.const 0))))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    ;; Sign.
    (local.set $c (i32.load8_u (local.get $p)))
    (if (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 43)))
      (then
        (local.set $neg (i32.eq (local.get $c) (i32.const 45)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))))
    ;; Integer part.
    (block $b
      (loop $int
        (br_if $b (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $d (call $digit (local.get $p)))
        (br_if $b (i32.lt_s (local.get $d) (i32.const 0)))
        (local.set $v (f64.add (f64.mul (local.get $v) (f64.const 10)) (f64.convert_i32_u (local.get $d))))
        (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $int)))
    ;; Fraction.
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then
        (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 46))
          (then
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $scale (f64.const 0.1))
            (block $b
              (loop $frac
                (br_if $b (i32.ge_u (local.get $p) (local.get $end)))
                (local.set $d (call $digit (local.get $p)))
                (br_if $b (i32.lt_s (local.get $d) (i32.const 0)))
                (local.set $v (f64.add (local.get $v) (f64.mul (f64.convert_i32_u (local.get $d)) (local.get $scale))))
                (local.set $scale (f64.div (local.get $scale) (f64.const 10)))
                (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $frac)))))))
    (if (i32.eqz (local.get $digits)) (then (return (i32.const 0))))
    ;; Exponent.
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then
        (if (i32.eq (i32.or (i32.load8_u (local.get $p)) (i32.const 32)) (i32.const 101))
          (then
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (if (i32.lt_u (local.get $p) (local.get $end))
              (then
                (local.set $c (i32.load8_u (local.get $p)))
                (if (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 43)))
                  (then
                    (local.set $eneg (i32.eq (local.get $c) (i32.const 45)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))))))
            (block $b
              (loop $e
                (br_if $b (i32.ge_u (local.get $p) (local.get $end)))
                (local.set $d (call $digit (local.get $p)))
                (br_if $b (i32.lt_s (local.get $d) (i32.const 0)))
                ;; Past 999 the value is 0 or infinite either way.
                (if (i32.lt_u (local.get $exp) (i32.const 1000))
                  (then (local.set $exp (i32.add (i32.mul (local.get $exp) (i32.const 10)) (local.get $d)))))
                (local.set $edigits (i32.add (local.get $edigits) (i32.const 1)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $e)))
            (if (i32.eqz (local.get $edigits)) (then (return (i32.const 0))))
            (block $b
              (loop $pow
                (br_if $b (i32.eqz (local.get $exp)))
                (if (local.get $eneg)
                  (then (local.set $v (f64.div (local.get $v) (f64.const 10))))
                  (else (local.set $v (f64.mul (local.get $v) (f64.const 10)))))
                (local.set $exp (i32.sub (local.get $exp) (i32.const 1)))
                (br $pow)))))))
    (if (i32.ne (local.get $p) (local.get $end)) (then (return (i32.const 0))))
    (if (local.get $neg) (then (local.set $v (f64.neg (local.get $v)))))
    (global.set $num (local.get $v))
    (i32.const 1))

  ;; $append copies src[0:n] to dst and returns dst+n.
  (func $append (param $dst i32) (param $src i32) (param $n i32) (result i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n))
    (i32.add (local.get $dst) (local.get $n)))

  (func (export "gw_filter") (param $mp i32) (param $ml i32) (param $dp i32) (param $dl i32) (result i32)
    (local $end i32) (local $v i32) (local $e i32) (local $vl i32) (local $c i32)
    (local $n i32) (local $at i32) (local $a f64)
    (local.set $end (i32.add (local.get $dp) (local.get $dl)))

    ;; "country":"XX": the string runs to its closing quote (escapes are
    ;; stepped over, not decoded, as gw_json_field does).
    (local.set $v (call $find (local.get $dp) (local.get $dl) (i32.const 128) (i32.const 11)))
    (if (local.get $v)
      (then
        (local.set $e (local.get $v))
        (block $b
          (loop $str
            (br_if $b (i32.ge_u (local.get $e) (local.get $end)))
            (local.set $c (i32.load8_u (local.get $e)))
            (br_if $b (i32.eq (local.get $c) (i32.const 34)))
            (local.set $e (i32.add (local.get $e)
              (select (i32.const 2) (i32.const 1) (i32.eq (local.get $c) (i32.const 92)))))
            (br $str)))
        (local.set $vl (i32.sub (select (local.get $end) (local.get $e) (i32.gt_u (local.get $e) (local.get $end))) (local.get $v)))
        (if (local.get $vl)
          (then
            (local.set $n (call $config_get (i32.const 16) (i32.const 7) (i32.const 4096) (i32.const 4096)))
            (if (i32.and (i32.ge_s (local.get $n) (i32.const 0)) (i32.le_s (local.get $n) (i32.const 4096)))
              (then
                (if (call $in_list (i32.const 4096) (local.get $n) (local.get $v) (local.get $vl))
                  (then
                    (local.set $at (call $append (i32.const 12288) (i32.const 48) (i32.const 8)))
                    (local.set $at (call $append (local.get $at) (local.get $v)
                      (select (i32.const 64) (local.get $vl) (i32.gt_u (local.get $vl) (i32.const 64)))))
                    (local.set $at (call $append (local.get $at) (i32.const 64) (i32.const 11)))
                    (drop (call $reason_set (i32.const 12288) (i32.sub (local.get $at) (i32.const 12288))))
                    (return (i32.const 2))))))))))

    ;; "amount":N: a literal runs to , } or a space; a string to its quote.
    (local.set $v (call $find (local.get $dp) (local.get $dl) (i32.const 144) (i32.const 9)))
    (if (i32.eqz (local.get $v)) (then (return (i32.const 0))))
    (if (i32.lt_u (local.get $v) (local.get $end))
      (then
        (if (i32.eq (i32.load8_u (local.get $v)) (i32.const 34))
          (then (local.set $v (i32.add (local.get $v) (i32.const 1)))))))
    (local.set $e (local.get $v))
    (block $b
      (loop $lit
        (br_if $b (i32.ge_u (local.get $e) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $e)))
        (br_if $b (i32.eq (local.get $c) (i32.const 44)))   ;; ,
        (br_if $b (i32.eq (local.get $c) (i32.const 125)))  ;; }
        (br_if $b (i32.eq (local.get $c) (i32.const 34)))   ;; "
        (br_if $b (i32.le_u (local.get $c) (i32.const 32))) ;; space, \t, \n, \r
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $lit)))
    (local.set $vl (i32.sub (local.get $e) (local.get $v)))
    (if (i32.eqz (call $parse (local.get $v) (local.get $vl))) (then (return (i32.const 0))))
    (local.set $a (global.get $num))
    (local.set $n (call $config_get (i32.const 32) (i32.const 10) (i32.const 8192) (i32.const 4096)))
    (if (i32.or (i32.lt_s (local.get $n) (i32.const 0)) (i32.gt_s (local.get $n) (i32.const 4096)))
      (then (return (i32.const 0))))
    (if (i32.eqz (call $parse (i32.const 8192) (local.get $n))) (then (return (i32.const 0))))
    (if (i32.eqz (f64.gt (local.get $a) (global.get $num))) (then (return (i32.const 0))))
    (local.set $at (call $append (i32.const 12288) (i32.const 80) (i32.const 7)))
    (local.set $at (call $append (local.get $at) (local.get $v) (local.get $vl)))
    (local.set $at (call $append (local.get $at) (i32.const 96) (i32.const 21)))
    (local.set $at (call $append (local.get $at) (i32.const 8192) (local.get $n)))
    (drop (call $reason_set (i32.const 12288) (i32.sub (local.get $at) (i32.const 12288))))
    (i32.const 1)))
