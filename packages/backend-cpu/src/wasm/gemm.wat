;; Float32 GEMM kernels for WebAssembly SIMD (128-bit, f32x4). Source of truth for kernel.generated.ts:
;; rebuild with `node --import tsx scripts/build-wasm.ts` from packages/backend-cpu.
;;
;; The caller (src/wasm/gemm.ts) copies the operands into the module's memory, writes a job descriptor there and
;; runs the job's chunks with `run`: first the chunks that pack B into panels, then the chunks that each compute
;; a block of rows (and columns) of C, GotoBLAS style: for each k block it packs the rows' A block with `pack`
;; and sweeps the 4x8 register-blocked micro-kernel over it and the packed B with `macro`. Chunks write disjoint
;; parts of memory, so any number of threads sharing the memory can run them in any order (src/threads/pool.ts);
;; the arithmetic of every element of C is the same whichever thread runs it. Pointers are byte addresses;
;; strides count elements.
;;
;; Packed layout ("panels"): an operand X with a panel axis p (rows of A, columns of B) and the reduction axis
;; k is cut into panels of w consecutive p (w = 4 for A, 8 for B); panel q stores, for each k in order, its w
;; values contiguously: dst[(q * nk + k) * w + c] = X[q * w + c, k]. The last panel is zero-padded. The
;; micro-kernel then reads both operands sequentially: per k, one broadcast of each of the 4 A values and two
;; vector loads of B, for 16 multiply-adds into 8 accumulator vectors.
;;
;; The memory is imported: `shared` (scripts/build-wasm.ts also emits a copy without `shared`, for platforms
;; without SharedArrayBuffer). 16384 pages = 1 GiB, the most gemm.ts uses.
(module
  (import "env" "memory" (memory 1 16384 shared))

  ;; Pack X (element [p, k] at src + 4 * (p * sp + k * sk)) into panels of width w (4 or 8) at dst, for
  ;; p < np and k < nk. Fast paths: p contiguous (sp = 1: vector copies) and k contiguous (sk = 1: 4x4
  ;; transposes); anything else, and the zero-padded last panel, element by element.
  (func $pack (export "pack") (param $src i32) (param $sp i32) (param $sk i32) (param $np i32) (param $nk i32)
                        (param $w i32) (param $dst i32)
    (local $p i32) (local $k i32) (local $c i32) (local $g i32) (local $s i32) (local $d i32)
    (local $rowBytes i32) (local $row2 i32) (local $row3 i32) (local $spB i32) (local $sp2 i32) (local $sp3 i32)
    (local $skB i32) (local $k4 i32) (local $nv i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rowBytes (i32.shl (local.get $w) (i32.const 2)))
    (local.set $row2 (i32.shl (local.get $rowBytes) (i32.const 1)))
    (local.set $row3 (i32.add (local.get $row2) (local.get $rowBytes)))
    (local.set $spB (i32.shl (local.get $sp) (i32.const 2)))
    (local.set $sp2 (i32.shl (local.get $spB) (i32.const 1)))
    (local.set $sp3 (i32.add (local.get $sp2) (local.get $spB)))
    (local.set $skB (i32.shl (local.get $sk) (i32.const 2)))
    (local.set $k4 (i32.and (local.get $nk) (i32.const -4)))
    (local.set $p (i32.const 0))
    (block $done
      (loop $panels
        (br_if $done (i32.ge_u (local.get $p) (local.get $np)))
        (if (i32.and (i32.le_u (i32.add (local.get $p) (local.get $w)) (local.get $np))
                     (i32.eq (local.get $sp) (i32.const 1)))
          (then
            ;; w contiguous values per k: copy w / 4 vectors.
            (local.set $s (i32.add (local.get $src) (i32.shl (local.get $p) (i32.const 2))))
            (local.set $k (i32.const 0))
            (block $kd (loop $kl
              (br_if $kd (i32.ge_u (local.get $k) (local.get $nk)))
              (v128.store (local.get $dst) (v128.load (local.get $s)))
              (if (i32.eq (local.get $w) (i32.const 8))
                (then (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $s)))))
              (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
              (local.set $s (i32.add (local.get $s) (local.get $skB)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $kl))))
          (else
            (if (i32.and (i32.le_u (i32.add (local.get $p) (local.get $w)) (local.get $np))
                         (i32.eq (local.get $sk) (i32.const 1)))
              (then
                ;; k contiguous: transpose 4 (p) x 4 (k) blocks, then the last nk % 4 values one by one.
                (local.set $g (i32.const 0))
                (loop $groups
                  (local.set $s (i32.add (local.get $src)
                    (i32.mul (i32.add (local.get $p) (local.get $g)) (local.get $spB))))
                  (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $g) (i32.const 2))))
                  (local.set $k (i32.const 0))
                  (block $kd (loop $kl
                    (br_if $kd (i32.ge_u (local.get $k) (local.get $k4)))
                    ;; Rows r0..r3 (4 k each) of the 4x4 block -> columns: unpcklps/unpckhps, movlhps/movhlps.
                    (local.set $r0 (v128.load (local.get $s)))
                    (local.set $r1 (v128.load (i32.add (local.get $s) (local.get $spB))))
                    (local.set $r2 (v128.load (i32.add (local.get $s) (local.get $sp2))))
                    (local.set $r3 (v128.load (i32.add (local.get $s) (local.get $sp3))))
                    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
                      (local.get $r0) (local.get $r1)))
                    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
                      (local.get $r0) (local.get $r1)))
                    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
                      (local.get $r2) (local.get $r3)))
                    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
                      (local.get $r2) (local.get $r3)))
                    (v128.store (local.get $d)
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                    (v128.store (i32.add (local.get $d) (local.get $rowBytes))
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                    (v128.store (i32.add (local.get $d) (local.get $row2))
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                    (v128.store (i32.add (local.get $d) (local.get $row3))
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                    (local.set $s (i32.add (local.get $s) (i32.const 16)))
                    (local.set $d (i32.add (local.get $d) (i32.shl (local.get $rowBytes) (i32.const 2))))
                    (local.set $k (i32.add (local.get $k) (i32.const 4)))
                    (br $kl)))
                  (block $rd (loop $rl
                    (br_if $rd (i32.ge_u (local.get $k) (local.get $nk)))
                    (local.set $c (i32.const 0))
                    (loop $cl
                      (f32.store (i32.add (local.get $d) (i32.shl (local.get $c) (i32.const 2)))
                        (f32.load (i32.add (local.get $s) (i32.mul (local.get $c) (local.get $spB)))))
                      (local.set $c (i32.add (local.get $c) (i32.const 1)))
                      (br_if $cl (i32.lt_u (local.get $c) (i32.const 4))))
                    (local.set $s (i32.add (local.get $s) (i32.const 4)))
                    (local.set $d (i32.add (local.get $d) (local.get $rowBytes)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $rl)))
                  (local.set $g (i32.add (local.get $g) (i32.const 4)))
                  (br_if $groups (i32.lt_u (local.get $g) (local.get $w))))
                (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $nk) (local.get $rowBytes)))))
              (else
                ;; General strides or the partial last panel: zero the row, then copy its nv valid values.
                (local.set $nv (i32.sub (local.get $np) (local.get $p)))
                (if (i32.gt_u (local.get $nv) (local.get $w)) (then (local.set $nv (local.get $w))))
                (local.set $s (i32.add (local.get $src) (i32.mul (local.get $p) (local.get $spB))))
                (local.set $k (i32.const 0))
                (block $kd (loop $kl
                  (br_if $kd (i32.ge_u (local.get $k) (local.get $nk)))
                  (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
                  (if (i32.eq (local.get $w) (i32.const 8))
                    (then (v128.store offset=16 (local.get $dst) (v128.const i32x4 0 0 0 0))))
                  (local.set $c (i32.const 0))
                  (local.set $d (local.get $s))
                  (loop $cl
                    (f32.store (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
                      (f32.load (local.get $d)))
                    (local.set $d (i32.add (local.get $d) (local.get $spB)))
                    (local.set $c (i32.add (local.get $c) (i32.const 1)))
                    (br_if $cl (i32.lt_u (local.get $c) (local.get $nv))))
                  (local.set $s (i32.add (local.get $s) (local.get $skB)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br $kl)))))))
        (local.set $p (i32.add (local.get $p) (local.get $w)))
        (br $panels))))

  ;; The micro-kernel: the 4x8 tile at c (rows ldc bytes apart) is set to (accum = 0) or incremented by
  ;; (accum = 1) the product of the packed 4 x kc panel at pa and kc x 8 panel at pb. kc >= 1.
  (func $micro (param $pa i32) (param $pb i32) (param $kc i32) (param $c i32) (param $ldc i32) (param $accum i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $a v128)
    (loop $k
      (local.set $b0 (v128.load (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $a (v128.load32_splat (local.get $pa)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=4 (local.get $pa)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=8 (local.get $pa)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=12 (local.get $pa)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
      (br_if $k (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))
    (if (local.get $accum)
      (then
        (local.set $c00 (f32x4.add (local.get $c00) (v128.load (local.get $c))))
        (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $c))))
        (local.set $a (v128.load (i32.add (local.get $c) (local.get $ldc))))
        (local.set $c10 (f32x4.add (local.get $c10) (local.get $a)))
        (local.set $a (v128.load offset=16 (i32.add (local.get $c) (local.get $ldc))))
        (local.set $c11 (f32x4.add (local.get $c11) (local.get $a)))
        (local.set $a (v128.load (i32.add (local.get $c) (i32.shl (local.get $ldc) (i32.const 1)))))
        (local.set $c20 (f32x4.add (local.get $c20) (local.get $a)))
        (local.set $a (v128.load offset=16 (i32.add (local.get $c) (i32.shl (local.get $ldc) (i32.const 1)))))
        (local.set $c21 (f32x4.add (local.get $c21) (local.get $a)))
        (local.set $a (v128.load (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 3)))))
        (local.set $c30 (f32x4.add (local.get $c30) (local.get $a)))
        (local.set $a (v128.load offset=16 (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 3)))))
        (local.set $c31 (f32x4.add (local.get $c31) (local.get $a)))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c10))
    (v128.store offset=16 (local.get $c) (local.get $c11))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c20))
    (v128.store offset=16 (local.get $c) (local.get $c21))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c30))
    (v128.store offset=16 (local.get $c) (local.get $c31)))

  ;; C[mc, nc] (row-major, rows ldc bytes apart at c) = or += packed A block (mc x kc at pa) @ packed B block
  ;; (kc x nc at pb). Edge tiles go through the 128-byte scratch tile at `tile`, then their valid part is
  ;; copied out. Each 8-column panel of B stays in L1 while the A panels stream past it.
  (func $macro (export "macro") (param $pa i32) (param $pb i32) (param $mc i32) (param $nc i32) (param $kc i32)
                         (param $c i32) (param $ldc i32) (param $accum i32) (param $tile i32)
    (local $i i32) (local $j i32) (local $mr i32) (local $nr i32) (local $r i32) (local $q i32)
    (local $bp i32) (local $cp i32) (local $dst i32) (local $v f32)
    (local.set $j (i32.const 0))
    (block $jd (loop $jl
      (br_if $jd (i32.ge_u (local.get $j) (local.get $nc)))
      (local.set $nr (i32.sub (local.get $nc) (local.get $j)))
      (if (i32.gt_u (local.get $nr) (i32.const 8)) (then (local.set $nr (i32.const 8))))
      (local.set $bp (i32.add (local.get $pb) (i32.mul (i32.shl (local.get $j) (i32.const 2)) (local.get $kc))))
      (local.set $i (i32.const 0))
      (block $id (loop $il
        (br_if $id (i32.ge_u (local.get $i) (local.get $mc)))
        (local.set $mr (i32.sub (local.get $mc) (local.get $i)))
        (if (i32.gt_u (local.get $mr) (i32.const 4)) (then (local.set $mr (i32.const 4))))
        (local.set $cp (i32.add (local.get $c)
          (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2)))))
        (if (i32.and (i32.eq (local.get $mr) (i32.const 4)) (i32.eq (local.get $nr) (i32.const 8)))
          (then
            (call $micro
              (i32.add (local.get $pa) (i32.mul (i32.shl (local.get $i) (i32.const 2)) (local.get $kc)))
              (local.get $bp) (local.get $kc) (local.get $cp) (local.get $ldc) (local.get $accum)))
          (else
            (call $micro
              (i32.add (local.get $pa) (i32.mul (i32.shl (local.get $i) (i32.const 2)) (local.get $kc)))
              (local.get $bp) (local.get $kc) (local.get $tile) (i32.const 32) (i32.const 0))
            (local.set $r (i32.const 0))
            (loop $rl
              (local.set $q (i32.const 0))
              (loop $ql
                (local.set $dst (i32.add (local.get $cp)
                  (i32.add (i32.mul (local.get $r) (local.get $ldc)) (i32.shl (local.get $q) (i32.const 2)))))
                (local.set $v (f32.load (i32.add (local.get $tile)
                  (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 3)) (local.get $q)) (i32.const 2)))))
                (if (local.get $accum) (then (local.set $v (f32.add (local.get $v) (f32.load (local.get $dst))))))
                (f32.store (local.get $dst) (local.get $v))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br_if $ql (i32.lt_u (local.get $q) (local.get $nr))))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $rl (i32.lt_u (local.get $r) (local.get $mr))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $il)))
      (local.set $j (i32.add (local.get $j) (i32.const 8)))
      (br $jl))))

  ;; Pack columns j0 .. j0 + nj of B (element [j, k] at b + 4 * (j * bsp + k * bsk), N columns, K deep) into the
  ;; packed B at pb, every k block: k block pc starts at element pc * N8 (N8 = N rounded up to 8), its panel of
  ;; column j0 at pc * N8 + j0 * kb.
  (func $packB (param $b i32) (param $bsp i32) (param $bsk i32) (param $j0 i32) (param $nj i32) (param $N i32)
                (param $K i32) (param $kc i32) (param $pb i32)
    (local $pc i32) (local $kb i32) (local $n8 i32)
    (local.set $n8 (i32.and (i32.add (local.get $N) (i32.const 7)) (i32.const -8)))
    (loop $kl
      (local.set $kb (i32.sub (local.get $K) (local.get $pc)))
      (if (i32.gt_u (local.get $kb) (local.get $kc)) (then (local.set $kb (local.get $kc))))
      (call $pack
        (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $j0) (local.get $bsp))
                                                  (i32.mul (local.get $pc) (local.get $bsk))) (i32.const 2)))
        (local.get $bsp) (local.get $bsk) (local.get $nj) (local.get $kb) (i32.const 8)
        (i32.add (local.get $pb) (i32.shl (i32.add (i32.mul (local.get $pc) (local.get $n8))
                                                   (i32.mul (local.get $j0) (local.get $kb))) (i32.const 2))))
      (local.set $pc (i32.add (local.get $pc) (local.get $kc)))
      (br_if $kl (i32.lt_u (local.get $pc) (local.get $K)))))

  ;; C[i0 .. i1, j0 .. j0 + nj] (row-major M x N at cp) from A (element [i, k] at a + 4 * (i * asp + k * ask)) and
  ;; the packed B at pb: for each block of at most mcMax rows and each k block in order, pack the A block into
  ;; the thread's scratch (after its 128-byte edge tile), then `macro` (accumulating from the second k block).
  (func $block (param $a i32) (param $asp i32) (param $ask i32) (param $i0 i32) (param $i1 i32) (param $j0 i32)
                (param $nj i32) (param $N i32) (param $K i32) (param $kc i32) (param $mcMax i32) (param $pb i32)
                (param $cp i32) (param $scratch i32)
    (local $ic i32) (local $mc i32) (local $pc i32) (local $kb i32) (local $n8 i32) (local $pa i32)
    (local.set $n8 (i32.and (i32.add (local.get $N) (i32.const 7)) (i32.const -8)))
    (local.set $pa (i32.add (local.get $scratch) (i32.const 128)))
    (local.set $ic (local.get $i0))
    (loop $il
      (local.set $mc (i32.sub (local.get $i1) (local.get $ic)))
      (if (i32.gt_u (local.get $mc) (local.get $mcMax)) (then (local.set $mc (local.get $mcMax))))
      (local.set $pc (i32.const 0))
      (loop $kl
        (local.set $kb (i32.sub (local.get $K) (local.get $pc)))
        (if (i32.gt_u (local.get $kb) (local.get $kc)) (then (local.set $kb (local.get $kc))))
        (call $pack
          (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $ic) (local.get $asp))
                                                    (i32.mul (local.get $pc) (local.get $ask))) (i32.const 2)))
          (local.get $asp) (local.get $ask) (local.get $mc) (local.get $kb) (i32.const 4) (local.get $pa))
        (call $macro
          (local.get $pa)
          (i32.add (local.get $pb) (i32.shl (i32.add (i32.mul (local.get $pc) (local.get $n8))
                                                     (i32.mul (local.get $j0) (local.get $kb))) (i32.const 2)))
          (local.get $mc) (local.get $nj) (local.get $kb)
          (i32.add (local.get $cp) (i32.shl (i32.add (i32.mul (local.get $ic) (local.get $N)) (local.get $j0))
                                            (i32.const 2)))
          (i32.shl (local.get $N) (i32.const 2))
          (i32.ne (local.get $pc) (i32.const 0))
          (local.get $scratch))
        (local.set $pc (i32.add (local.get $pc) (local.get $kc)))
        (br_if $kl (i32.lt_u (local.get $pc) (local.get $K))))
      (local.set $ic (i32.add (local.get $ic) (local.get $mcMax)))
      (br_if $il (i32.lt_u (local.get $ic) (local.get $i1)))))

  ;; Run chunk $c of the job described at $job (i32 words, byte offsets): 0 M, 4 N, 8 K, 12 kc (k block), 16 A,
  ;; 20 A's row stride, 24 A's k stride, 28 B, 32 B's column stride, 36 B's k stride, 40 packed B, 44 C (row-major
  ;; M x N), 48 nPack, 52 packCols, 56 rowBlocks, 60 rows per chunk, 64 columns per chunk, 68 mc (A block rows);
  ;; for a batch of products (84 items per chunk > 0): 88 items, 92 / 96 / 100 bytes between the items' A, B
  ;; and C, 104 where the chunk's own packed B starts in its scratch (0: B is shared by the items, packed once).
  ;; $scratch is the calling thread's own 128-byte edge tile followed by its packed A block (mc x kc), then (in
  ;; a batch whose items have their own B) its packed B.
  ;;
  ;; Chunks below nPack pack packCols columns of B into the packed B. The others compute the C block (rows
  ;; i0.., columns j0..) of chunk r = c - nPack, rows fastest: i0 = (r % rowBlocks) * rows per chunk,
  ;; j0 = (r / rowBlocks) * columns per chunk; they need every pack chunk done. In a batch, chunk r computes
  ;; whole products instead, those of items r * per .. r * per + per - 1, packing each item's B first unless it
  ;; is shared. Every element of C sees the same operations in every mode, hence the same bits.
  (func (export "run") (param $job i32) (param $c i32) (param $scratch i32)
    (local $M i32) (local $N i32) (local $K i32) (local $kc i32) (local $nj i32) (local $i0 i32) (local $i1 i32)
    (local $j0 i32) (local $r i32) (local $rb i32) (local $per i32) (local $t i32) (local $t1 i32) (local $pb i32) (local $own i32)
    (local.set $M (i32.load (local.get $job)))
    (local.set $N (i32.load offset=4 (local.get $job)))
    (local.set $K (i32.load offset=8 (local.get $job)))
    (local.set $kc (i32.load offset=12 (local.get $job)))
    (if (i32.lt_u (local.get $c) (i32.load offset=48 (local.get $job)))
      (then
        (local.set $nj (i32.load offset=52 (local.get $job)))
        (local.set $j0 (i32.mul (local.get $c) (local.get $nj)))
        (if (i32.gt_u (local.get $nj) (i32.sub (local.get $N) (local.get $j0)))
          (then (local.set $nj (i32.sub (local.get $N) (local.get $j0)))))
        (call $packB (i32.load offset=28 (local.get $job)) (i32.load offset=32 (local.get $job))
          (i32.load offset=36 (local.get $job)) (local.get $j0) (local.get $nj) (local.get $N) (local.get $K)
          (local.get $kc) (i32.load offset=40 (local.get $job)))
        (return)))
    (local.set $r (i32.sub (local.get $c) (i32.load offset=48 (local.get $job))))
    (local.set $per (i32.load offset=84 (local.get $job)))
    (if (local.get $per)
      (then
        (local.set $t (i32.mul (local.get $r) (local.get $per)))
        (local.set $t1 (i32.add (local.get $t) (local.get $per)))
        (if (i32.gt_u (local.get $t1) (i32.load offset=88 (local.get $job)))
          (then (local.set $t1 (i32.load offset=88 (local.get $job)))))
        (local.set $own (i32.load offset=104 (local.get $job)))
        (local.set $pb (i32.load offset=40 (local.get $job)))
        (if (local.get $own) (then (local.set $pb (i32.add (local.get $scratch) (local.get $own)))))
        (loop $tl
          (if (local.get $own)
            (then
              (call $packB
                (i32.add (i32.load offset=28 (local.get $job))
                         (i32.mul (local.get $t) (i32.load offset=96 (local.get $job))))
                (i32.load offset=32 (local.get $job)) (i32.load offset=36 (local.get $job))
                (i32.const 0) (local.get $N) (local.get $N) (local.get $K) (local.get $kc) (local.get $pb))))
          (call $block
            (i32.add (i32.load offset=16 (local.get $job))
                     (i32.mul (local.get $t) (i32.load offset=92 (local.get $job))))
            (i32.load offset=20 (local.get $job)) (i32.load offset=24 (local.get $job))
            (i32.const 0) (local.get $M) (i32.const 0) (local.get $N) (local.get $N) (local.get $K) (local.get $kc)
            (i32.load offset=68 (local.get $job)) (local.get $pb)
            (i32.add (i32.load offset=44 (local.get $job))
                     (i32.mul (local.get $t) (i32.load offset=100 (local.get $job))))
            (local.get $scratch))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br_if $tl (i32.lt_u (local.get $t) (local.get $t1))))
        (return)))
    (local.set $rb (i32.load offset=56 (local.get $job)))
    (local.set $i0 (i32.mul (i32.rem_u (local.get $r) (local.get $rb)) (i32.load offset=60 (local.get $job))))
    (local.set $i1 (i32.add (local.get $i0) (i32.load offset=60 (local.get $job))))
    (if (i32.gt_u (local.get $i1) (local.get $M)) (then (local.set $i1 (local.get $M))))
    (local.set $nj (i32.load offset=64 (local.get $job)))
    (local.set $j0 (i32.mul (i32.div_u (local.get $r) (local.get $rb)) (local.get $nj)))
    (if (i32.gt_u (local.get $nj) (i32.sub (local.get $N) (local.get $j0)))
      (then (local.set $nj (i32.sub (local.get $N) (local.get $j0)))))
    (call $block (i32.load offset=16 (local.get $job)) (i32.load offset=20 (local.get $job))
      (i32.load offset=24 (local.get $job)) (local.get $i0) (local.get $i1) (local.get $j0) (local.get $nj)
      (local.get $N) (local.get $K) (local.get $kc) (i32.load offset=68 (local.get $job))
      (i32.load offset=40 (local.get $job)) (i32.load offset=44 (local.get $job)) (local.get $scratch)))
)
