// Opt-in shrink microkernels on AVX512_BF16's VDPBF16PS (bf16 pairs dotted
// into fp32 lanes). The Swift SIMD kernels stay the default and the tested
// path; these run only when KernelRunOptions.bf16DotMicrokernel is set and the
// CPU has avx512_bf16.
//
// Accumulators use the Swift shrink's layout: `acc` points at cell (row, col)
// of a 16 × 16 grid of 16-lane vectors, rows 256 floats apart, columns 16.
// Per cell, lane l adds the pairs (32·i + 2l, 32·i + 2l + 1) of every 32-wide
// K chunk in increasing order (a short last chunk is zero-filled), the same in
// every block shape, so a cell's bits never depend on the tile's row count.
#ifndef LORA_BF16_DOT_H
#define LORA_BF16_DOT_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU runs VDPBF16PS (avx512f + avx512_bf16), else 0.
int lora_bf16_dot_available(void);

/// Four x rows × four A rows (`w`, rows `w_stride` elements apart) over `count` K elements.
void lora_bf16_dot4x4(float *acc, const uint16_t *x0, const uint16_t *x1, const uint16_t *x2,
                      const uint16_t *x3, const uint16_t *w, ptrdiff_t w_stride, ptrdiff_t count);

/// One x row × `columns` (1…8) A rows.
void lora_bf16_dot1xn(float *acc, const uint16_t *x, const uint16_t *w, ptrdiff_t w_stride,
                      ptrdiff_t count, int columns);

#endif
