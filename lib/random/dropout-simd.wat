;; The dropout multiplier of dropout-multiplier.ts, four positions at a time (WebAssembly SIMD):
;; the same two keyed rounds of Wellons' triple32 on 32-bit lanes (i32x4.mul keeps the low 32 bits,
;; as Math.imul does), so every value is the one the JavaScript loop writes. `mask` writes the
;; multipliers of positions start … start + n − 1 (n a multiple of 4) at memory offset 0.
;;
;; Assembled by scripts/build-wasm.ts into dropout-simd-binary.ts.
(module
  (memory (export "memory") 1)

  (func $triple32 (param $x v128) (result v128)
    (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 17))))
    (local.set $x (i32x4.mul (local.get $x) (i32x4.splat (i32.const 0xed5ad4bb))))
    (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 11))))
    (local.set $x (i32x4.mul (local.get $x) (i32x4.splat (i32.const 0xac4c1b51))))
    (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
    (local.set $x (i32x4.mul (local.get $x) (i32x4.splat (i32.const 0x31848bab))))
    (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 14))))

  ;; Position i keeps `kept` when triple32(triple32(i ^ key1) ^ key2) ≥ threshold (unsigned), else 0.
  (func (export "mask") (param $start i32) (param $n i32) (param $key1 i32) (param $key2 i32) (param $threshold i32) (param $kept f32)
    (local $at i32) (local $end i32) (local $index v128) (local $hash v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $index
      (i32x4.add (i32x4.splat (local.get $start)) (v128.const i32x4 0 1 2 3)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $hash
          (call $triple32
            (v128.xor
              (call $triple32 (v128.xor (local.get $index) (i32x4.splat (local.get $key1))))
              (i32x4.splat (local.get $key2)))))
        (v128.store (local.get $at)
          (v128.and
            (i32x4.ge_u (local.get $hash) (i32x4.splat (local.get $threshold)))
            (f32x4.splat (local.get $kept))))
        (local.set $index (i32x4.add (local.get $index) (i32x4.splat (i32.const 4))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next)))))
