;; The dropout multiplier of dropout-multiplier.ts, four positions at a time (WebAssembly SIMD):
;; the same two keyed rounds of Wellons' triple32 on 32-bit lanes (i32x4.mul keeps the low 32 bits,
;; as Math.imul does), so every value is the one the JavaScript loop writes. `apply` multiplies n
;; values at memory offset 0 by their multipliers (n a multiple of 4); applied to ones, that writes
;; the multipliers themselves.
;;
;; Assembled by scripts/build-wasm.ts into dropout-simd-binary.ts.
(module
  (memory (export "memory") 1)

  ;; Multiplies the n values at offset 0, those of positions start … start + n − 1, by their multipliers.
  ;; The hash is written out in place, twice (V8 does not inline wasm calls, and a called helper cost
  ;; a quarter more time), with the constants splatted once.
  (func (export "apply") (param $start i32) (param $n i32) (param $key1 i32) (param $key2 i32) (param $threshold i32) (param $kept f32)
    (local $at i32) (local $end i32) (local $index v128) (local $x v128)
    (local $k1 v128) (local $k2 v128) (local $limit v128) (local $keep v128) (local $four v128)
    (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $index (i32x4.add (i32x4.splat (local.get $start)) (v128.const i32x4 0 1 2 3)))
    (local.set $k1 (i32x4.splat (local.get $key1)))
    (local.set $k2 (i32x4.splat (local.get $key2)))
    (local.set $limit (i32x4.splat (local.get $threshold)))
    (local.set $keep (f32x4.splat (local.get $kept)))
    (local.set $four (i32x4.splat (i32.const 4)))
    (local.set $c1 (i32x4.splat (i32.const 0xed5ad4bb)))
    (local.set $c2 (i32x4.splat (i32.const 0xac4c1b51)))
    (local.set $c3 (i32x4.splat (i32.const 0x31848bab)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $x (v128.xor (local.get $index) (local.get $k1)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 17))))
        (local.set $x (i32x4.mul (local.get $x) (local.get $c1)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 11))))
        (local.set $x (i32x4.mul (local.get $x) (local.get $c2)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
        (local.set $x (i32x4.mul (local.get $x) (local.get $c3)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 14))))
        (local.set $x (v128.xor (local.get $x) (local.get $k2)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 17))))
        (local.set $x (i32x4.mul (local.get $x) (local.get $c1)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 11))))
        (local.set $x (i32x4.mul (local.get $x) (local.get $c2)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
        (local.set $x (i32x4.mul (local.get $x) (local.get $c3)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 14))))
        (v128.store (local.get $at)
          (f32x4.mul
            (v128.load (local.get $at))
            (v128.and (i32x4.ge_u (local.get $x) (local.get $limit)) (local.get $keep))))
        (local.set $index (i32x4.add (local.get $index) (local.get $four)))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next)))))
