;; target[i] += source[i] for n floats (n a multiple of 4), four lanes at a time: IEEE single-precision
;; adds, so each value is the one the JavaScript loop of native-kernels.ts's ScatterNd stores.
;; Offsets are in bytes; scatter-add.ts lays the target and a staged source row out in memory.
;;
;; Assembled by scripts/build-wasm.ts into scatter-add-simd-binary.ts.
(module
  (memory (export "memory") 1)
  (func (export "add") (param $target i32) (param $source i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $target) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $target) (local.get $end)))
        (v128.store (local.get $target) (f32x4.add (v128.load (local.get $target)) (v128.load (local.get $source))))
        (local.set $target (i32.add (local.get $target) (i32.const 16)))
        (local.set $source (i32.add (local.get $source) (i32.const 16)))
        (br $next)))))
