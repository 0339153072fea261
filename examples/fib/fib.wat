;; A self-contained module for the quick start: Fibonacci numbers, iterative and recursive,
;; and a trapping function to show wasm backtraces.
(module $fib
  (func $fib (export "fib") (param $n i32) (result i64)
    (local $a i64) (local $b i64) (local $t i64)
    (local.set $b (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $t (i64.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $a))
  (func $fib_rec (export "fib_rec") (param $n i32) (result i64)
    (if (result i64) (i32.lt_u (local.get $n) (i32.const 2))
      (then (i64.extend_i32_u (local.get $n)))
      (else (i64.add (call $fib_rec (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib_rec (i32.sub (local.get $n) (i32.const 2)))))))
  (func $golden (export "golden") (param $n i32) (result f64)
    (f64.div (f64.convert_i64_u (call $fib (i32.add (local.get $n) (i32.const 1))))
             (f64.convert_i64_u (call $fib (local.get $n)))))
  (func $check (param $n i32)
    (if (i32.gt_u (local.get $n) (i32.const 92)) (then unreachable)))
  (func $fib_checked (export "fib_checked") (param $n i32) (result i64)
    (call $check (local.get $n))
    (call $fib (local.get $n))))
