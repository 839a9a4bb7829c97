// bf16 microkernels on AVX512_BF16 (VDPBF16PS: two bf16 products added into
// each fp32 lane), run where the CPU has the instruction and it is the faster
// path (KernelRunOptions.bf16DotIsFaster; the Swift tiles run elsewhere).
//
// Weights are lora-viz's bf16 panels (WeightPanels.swift): K in pairs, so
// that row j of a panel holds, for each column c, the 32-bit word
// (W[2j][c] low half, W[2j + 1][c] high half); vector v of a tile lies
// (v / 4) · panel_stride + (v % 4) · 32 elements into its pair row.
//
// Per cell, one fp32 chain over the pairs in increasing j; VDPBF16PS adds the
// high (odd k) product first, then the low (even k) one, each product exact in
// fp32 and each add rounded to nearest even (measured on this CPU for every
// lane of 4 M random pairs; the SDM's pseudocode says the same):
//     acc = (acc + x[2j+1]·w[2j+1]) + x[2j]·w[2j]
// An odd K ends on a pair whose high half is zero (acc + 0 changes nothing).
// The Swift bf16 tiles (MicroTile) run the same order, so both give the same
// bits on normal values; the instruction reads subnormal inputs as 0 and
// flushes subnormal results to 0.
#ifndef LORA_BF16_DOT_H
#define LORA_BF16_DOT_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU runs these kernels (avx512f, bw and avx512_bf16), else 0.
int lora_bf16_dot_available(void);

/// `acc[i · acc_stride + v] += Σ_k x[i][x_offset + k] · w(k, v)` (16 lanes
/// each; `acc` in 16-float vectors) for rows i < `rows` (1, 4, 6 or 8) and
/// vectors v < `vectors` (1–4, or 8 with one row), k < `count`, in the pair
/// order above. `w` is the panel's pair row of the first k (an even k);
/// pair rows lie `w_stride` elements apart.
void lora_bf16_dot_tile(int rows, int vectors, float *acc, ptrdiff_t acc_stride, const uint16_t *const *x,
                        ptrdiff_t x_offset, const uint16_t *w, ptrdiff_t w_stride, ptrdiff_t panel_stride,
                        ptrdiff_t count);

/// The same for four rows, each with its own weights `w[i]` (lone decode
/// rows of different adapters side by side), `vectors` 1–4.
void lora_bf16_dot_tile_rows(int vectors, float *acc, ptrdiff_t acc_stride, const uint16_t *const *x,
                             ptrdiff_t x_offset, const uint16_t *const *w, ptrdiff_t w_stride, ptrdiff_t count);

/// One expand tile: `lora_bf16_dot_tile` from zero accumulators, then the
/// epilogue `out[i][c] = bf16(bf16(acc · scaling) + out[i][c])` for columns
/// c < `columns` of each row's `out[i]` (its first column), both roundings
/// with VCVTNEPS2BF16 (to nearest even, as the Swift epilogue on normal values).
void lora_bf16_dot_expand(int rows, int vectors, const uint16_t *const *x, const uint16_t *w, ptrdiff_t w_stride,
                          ptrdiff_t panel_stride, ptrdiff_t count, uint16_t *const *out, int columns, float scaling);

/// bf16 dot products from registers: `iterations` steps of 12 independent
/// VDPBF16PS chains (the peak probe; 4 flops per lane per instruction).
float lora_bf16_dot_chains(long iterations, float seed);

#endif
