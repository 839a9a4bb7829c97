// Opt-in bf16 microkernels on AVX512_BF16: the shrink on VDPBF16PS (bf16 pairs
// dotted into fp32 lanes), the expands rounding with VCVTNEPS2BF16. The Swift
// SIMD kernels stay the default; these run only when
// KernelRunOptions.bf16DotMicrokernel is set and the CPU has avx512_bf16.
//
// Shrink accumulators use the Swift shrink's layout: `acc` points at cell (row, col)
// of a 16 × 16 grid of 16-lane vectors, rows 256 floats apart, columns 16.
// Per cell, lane l adds the pairs (32·i + 2l, 32·i + 2l + 1) of every 32-wide
// K chunk in increasing order (a short last chunk is zero-filled), the same in
// every block shape, so a cell's bits never depend on the tile's row count.
#ifndef LORA_BF16_DOT_H
#define LORA_BF16_DOT_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU runs these kernels (avx512f, bw, vl and avx512_bf16), else 0.
int lora_bf16_dot_available(void);

/// Four x rows × four A rows (`w`, rows `w_stride` elements apart) over `count` K elements.
void lora_bf16_dot4x4(float *acc, const uint16_t *x0, const uint16_t *x1, const uint16_t *x2,
                      const uint16_t *x3, const uint16_t *w, ptrdiff_t w_stride, ptrdiff_t count);

/// One x row × `columns` (1…8) A rows.
void lora_bf16_dot1xn(float *acc, const uint16_t *x, const uint16_t *w, ptrdiff_t w_stride,
                      ptrdiff_t count, int columns);

/// One expand tile in bf16 (sgemm_lora_b, qkv_lora_b, gate_up_lora_b):
/// `out[rows[j], out_column + c] = bf16(bf16(acc · scaling) + out[...])` with
/// `acc = Σ_{k<r} x[j·x_stride + k] · w[k·w_stride + c]` as one FMA chain in
/// increasing k (the Swift kernels' order), rounding with VCVTNEPS2BF16
/// (round to nearest even; denormal inputs read as zero). `x` holds the
/// tile's rows staged in fp32; `w` is one Bᵀ panel (row k = B[·][k] of its
/// columns, `w_stride` apart) in lora-viz's paired bf16 layout (see
/// `panel_vector`); `columns` ≤ 64.
void lora_bf16_expand_tile(const float *x, ptrdiff_t x_stride, const ptrdiff_t *rows, int row_count,
                           const uint16_t *w, ptrdiff_t w_stride, int r, uint16_t *out, ptrdiff_t out_stride,
                           ptrdiff_t out_column, int columns, float scaling);

#endif
