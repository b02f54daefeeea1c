;; keras-inspect's compute kernel: the two matrix products a recurrent layer spends its
;; time in (the input projection x·W of all steps, and h·U at every step), in WebAssembly
;; with 128-bit SIMD. Assembled by build.mjs into gemm-wasm.ts; see src/kernel/README.md.
;;
;;   out[r, c] = Σ_d x[r, d] · w[d, c]
;;
;; Bit for bit what the readable code in src/layers/recurrent.ts (dotColumns) computes:
;; each output sums its products in order of d, starting from 0, and every product and
;; every partial sum is rounded to the element type (f32x4.mul / f32x4.add are IEEE
;; single-precision operations, with no fused multiply-add). The vector lanes run across
;; output columns, never across d, so no sum is reordered.
;;
;; Layouts (byte offsets into the exported memory, all 16-byte aligned):
;;   x    rows × depth, row-major (a single row for h·U).
;;   w    packed in panels of 128 bytes per row: 32 float32 columns or 16 float64 columns.
;;        Panel p holds columns [p·P, p·P + P) of all `depth` rows, contiguously:
;;        w + (p·depth + d)·128 is row d of panel p. Columns past the matrix are zeros.
;;   out  rows × (panels·P), row-major.
;; Per (panel, row) eight accumulators (one 128-byte panel row) stay in registers while d
;; runs; a panel (depth × 128 bytes) is reused by every row of x while it is in cache.
(module
  (memory (export "memory") 1)

  (func (export "gemm_f32")
    (param $x i32) (param $rows i32) (param $depth i32) (param $w i32) (param $panels i32) (param $out i32)
    (local $p i32) (local $r i32) (local $panel i32) (local $xp i32) (local $xend i32) (local $wp i32) (local $op i32)
    (local $s v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (loop $panels_loop
      (if (i32.lt_u (local.get $p) (local.get $panels))
        (then
          (local.set $panel (i32.add (local.get $w) (i32.mul (i32.mul (local.get $p) (local.get $depth)) (i32.const 128))))
          (local.set $r (i32.const 0))
          (loop $rows_loop
            (if (i32.lt_u (local.get $r) (local.get $rows))
              (then
                (local.set $a0 (v128.const i32x4 0 0 0 0))
                (local.set $a1 (v128.const i32x4 0 0 0 0))
                (local.set $a2 (v128.const i32x4 0 0 0 0))
                (local.set $a3 (v128.const i32x4 0 0 0 0))
                (local.set $a4 (v128.const i32x4 0 0 0 0))
                (local.set $a5 (v128.const i32x4 0 0 0 0))
                (local.set $a6 (v128.const i32x4 0 0 0 0))
                (local.set $a7 (v128.const i32x4 0 0 0 0))
                (local.set $xp (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $depth)) (i32.const 2))))
                (local.set $xend (i32.add (local.get $xp) (i32.shl (local.get $depth) (i32.const 2))))
                (local.set $wp (local.get $panel))
                (loop $depth_loop
                  (if (i32.lt_u (local.get $xp) (local.get $xend))
                    (then
                      (local.set $s (f32x4.splat (f32.load (local.get $xp))))
                      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $wp)))))
                      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $wp)))))
                      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $wp)))))
                      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $wp)))))
                      (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (v128.load offset=64 (local.get $wp)))))
                      (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $s) (v128.load offset=80 (local.get $wp)))))
                      (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $s) (v128.load offset=96 (local.get $wp)))))
                      (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $s) (v128.load offset=112 (local.get $wp)))))
                      (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
                      (local.set $wp (i32.add (local.get $wp) (i32.const 128)))
                      (br $depth_loop))))
                ;; out + (r·panels + p)·128
                (local.set $op (i32.add (local.get $out)
                  (i32.mul (i32.add (i32.mul (local.get $r) (local.get $panels)) (local.get $p)) (i32.const 128))))
                (v128.store offset=0 (local.get $op) (local.get $a0))
                (v128.store offset=16 (local.get $op) (local.get $a1))
                (v128.store offset=32 (local.get $op) (local.get $a2))
                (v128.store offset=48 (local.get $op) (local.get $a3))
                (v128.store offset=64 (local.get $op) (local.get $a4))
                (v128.store offset=80 (local.get $op) (local.get $a5))
                (v128.store offset=96 (local.get $op) (local.get $a6))
                (v128.store offset=112 (local.get $op) (local.get $a7))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rows_loop))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $panels_loop)))))

  ;; The same over float64: 16 columns a panel, f64x2 lanes, each product and sum rounded to float64.
  (func (export "gemm_f64")
    (param $x i32) (param $rows i32) (param $depth i32) (param $w i32) (param $panels i32) (param $out i32)
    (local $p i32) (local $r i32) (local $panel i32) (local $xp i32) (local $xend i32) (local $wp i32) (local $op i32)
    (local $s v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (loop $panels_loop
      (if (i32.lt_u (local.get $p) (local.get $panels))
        (then
          (local.set $panel (i32.add (local.get $w) (i32.mul (i32.mul (local.get $p) (local.get $depth)) (i32.const 128))))
          (local.set $r (i32.const 0))
          (loop $rows_loop
            (if (i32.lt_u (local.get $r) (local.get $rows))
              (then
                (local.set $a0 (v128.const i32x4 0 0 0 0))
                (local.set $a1 (v128.const i32x4 0 0 0 0))
                (local.set $a2 (v128.const i32x4 0 0 0 0))
                (local.set $a3 (v128.const i32x4 0 0 0 0))
                (local.set $a4 (v128.const i32x4 0 0 0 0))
                (local.set $a5 (v128.const i32x4 0 0 0 0))
                (local.set $a6 (v128.const i32x4 0 0 0 0))
                (local.set $a7 (v128.const i32x4 0 0 0 0))
                (local.set $xp (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $depth)) (i32.const 3))))
                (local.set $xend (i32.add (local.get $xp) (i32.shl (local.get $depth) (i32.const 3))))
                (local.set $wp (local.get $panel))
                (loop $depth_loop
                  (if (i32.lt_u (local.get $xp) (local.get $xend))
                    (then
                      (local.set $s (f64x2.splat (f64.load (local.get $xp))))
                      (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $s) (v128.load offset=0 (local.get $wp)))))
                      (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $s) (v128.load offset=16 (local.get $wp)))))
                      (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $s) (v128.load offset=32 (local.get $wp)))))
                      (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $s) (v128.load offset=48 (local.get $wp)))))
                      (local.set $a4 (f64x2.add (local.get $a4) (f64x2.mul (local.get $s) (v128.load offset=64 (local.get $wp)))))
                      (local.set $a5 (f64x2.add (local.get $a5) (f64x2.mul (local.get $s) (v128.load offset=80 (local.get $wp)))))
                      (local.set $a6 (f64x2.add (local.get $a6) (f64x2.mul (local.get $s) (v128.load offset=96 (local.get $wp)))))
                      (local.set $a7 (f64x2.add (local.get $a7) (f64x2.mul (local.get $s) (v128.load offset=112 (local.get $wp)))))
                      (local.set $xp (i32.add (local.get $xp) (i32.const 8)))
                      (local.set $wp (i32.add (local.get $wp) (i32.const 128)))
                      (br $depth_loop))))
                (local.set $op (i32.add (local.get $out)
                  (i32.mul (i32.add (i32.mul (local.get $r) (local.get $panels)) (local.get $p)) (i32.const 128))))
                (v128.store offset=0 (local.get $op) (local.get $a0))
                (v128.store offset=16 (local.get $op) (local.get $a1))
                (v128.store offset=32 (local.get $op) (local.get $a2))
                (v128.store offset=48 (local.get $op) (local.get $a3))
                (v128.store offset=64 (local.get $op) (local.get $a4))
                (v128.store offset=80 (local.get $op) (local.get $a5))
                (v128.store offset=96 (local.get $op) (local.get $a6))
                (v128.store offset=112 (local.get $op) (local.get $a7))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rows_loop))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $panels_loop))))))
