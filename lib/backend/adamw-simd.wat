;; AdamW's update over four lanes at a time (WebAssembly SIMD), the arithmetic of adamw-update.ts:
;; every f32x4 operation (+ − × ÷ √) is IEEE single precision, so each lane is bit for bit
;; that file's float64-then-Math.fround step. The caller (adamw-simd.ts) copies a chunk of p, g, m, v
;; into the four arrays at 0, n, 2n and 3n floats (n a multiple of 4), calls `bert` or `pytorch`, and
;; copies p, m and v back: the new values overwrite p, m and v in place.
;;
;; Assembled by scripts/build-wasm.ts into adamw-simd-binary.ts.
(module
  (memory (export "memory") 1)

  ;; bert: m' = m·β1 + g·(1−β1); v' = v·β2 + g²·(1−β2); u = m' / (√v' / c2 + ε) (+ p·wd if decays);
  ;; p' = p − u·lr
  (func (export "bert")
    (param $n i32) (param $b1 f32) (param $ob1 f32) (param $b2 f32) (param $ob2 f32)
    (param $c2 f32) (param $eps f32) (param $wd f32) (param $lr f32) (param $decays i32)
    (local $p i32) (local $end i32)
    (local $g v128) (local $x v128) (local $mi v128) (local $vi v128) (local $u v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $g (v128.load (i32.add (local.get $p) (local.get $end))))
        (local.set $x (v128.load (local.get $p)))
        (local.set $mi
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $p) (i32.shl (local.get $end) (i32.const 1)))) (f32x4.splat (local.get $b1)))
            (f32x4.mul (local.get $g) (f32x4.splat (local.get $ob1)))))
        (local.set $vi
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $p) (i32.mul (local.get $end) (i32.const 3)))) (f32x4.splat (local.get $b2)))
            (f32x4.mul (f32x4.mul (local.get $g) (local.get $g)) (f32x4.splat (local.get $ob2)))))
        (local.set $u
          (f32x4.div
            (local.get $mi)
            (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vi)) (f32x4.splat (local.get $c2))) (f32x4.splat (local.get $eps)))))
        (if (local.get $decays)
          (then (local.set $u (f32x4.add (local.get $u) (f32x4.mul (local.get $x) (f32x4.splat (local.get $wd)))))))
        (v128.store (local.get $p) (f32x4.sub (local.get $x) (f32x4.mul (local.get $u) (f32x4.splat (local.get $lr)))))
        (v128.store (i32.add (local.get $p) (i32.shl (local.get $end) (i32.const 1))) (local.get $mi))
        (v128.store (i32.add (local.get $p) (i32.mul (local.get $end) (i32.const 3))) (local.get $vi))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next))))

  ;; pytorch: m', v' as bert; p' = (decays ? p·keep : p) − (m' / (√v' / c2 + ε))·stepSize
  (func (export "pytorch")
    (param $n i32) (param $b1 f32) (param $ob1 f32) (param $b2 f32) (param $ob2 f32)
    (param $c2 f32) (param $eps f32) (param $keep f32) (param $stepSize f32) (param $decays i32)
    (local $p i32) (local $end i32)
    (local $g v128) (local $x v128) (local $mi v128) (local $vi v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $g (v128.load (i32.add (local.get $p) (local.get $end))))
        (local.set $x (v128.load (local.get $p)))
        (local.set $mi
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $p) (i32.shl (local.get $end) (i32.const 1)))) (f32x4.splat (local.get $b1)))
            (f32x4.mul (local.get $g) (f32x4.splat (local.get $ob1)))))
        (local.set $vi
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $p) (i32.mul (local.get $end) (i32.const 3)))) (f32x4.splat (local.get $b2)))
            (f32x4.mul (f32x4.mul (local.get $g) (local.get $g)) (f32x4.splat (local.get $ob2)))))
        (if (local.get $decays)
          (then (local.set $x (f32x4.mul (local.get $x) (f32x4.splat (local.get $keep))))))
        (v128.store (local.get $p)
          (f32x4.sub
            (local.get $x)
            (f32x4.mul
              (f32x4.div
                (local.get $mi)
                (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vi)) (f32x4.splat (local.get $c2))) (f32x4.splat (local.get $eps))))
              (f32x4.splat (local.get $stepSize)))))
        (v128.store (i32.add (local.get $p) (i32.shl (local.get $end) (i32.const 1))) (local.get $mi))
        (v128.store (i32.add (local.get $p) (i32.mul (local.get $end) (i32.const 3))) (local.get $vi))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next)))))
