#include "lora_bf16_dot.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

int lora_bf16_dot_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

/// 32 bf16 from `p`, zero-filled past `n` (n < 32 only in the K tail).
BF16_TARGET static inline __m512bh load_pairs(const uint16_t *p, ptrdiff_t n) {
    if (n >= 32) return (__m512bh)_mm512_loadu_si512((const void *)p);
    return (__m512bh)_mm512_maskz_loadu_epi16((__mmask32)((1u << n) - 1u), p);
}

BF16_TARGET void lora_bf16_dot4x4(float *acc, const uint16_t *x0, const uint16_t *x1, const uint16_t *x2,
                                  const uint16_t *x3, const uint16_t *w, ptrdiff_t w_stride, ptrdiff_t count) {
    const uint16_t *xs[4] = {x0, x1, x2, x3};
    __m512 a[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) a[r][c] = _mm512_loadu_ps(acc + r * 256 + c * 16);
    for (ptrdiff_t i = 0; i < count; i += 32) {
        ptrdiff_t n = count - i;
        __m512bh wv[4], xv[4];
        for (int c = 0; c < 4; c++) wv[c] = load_pairs(w + c * w_stride + i, n);
        for (int r = 0; r < 4; r++) xv[r] = load_pairs(xs[r] + i, n);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) a[r][c] = _mm512_dpbf16_ps(a[r][c], xv[r], wv[c]);
    }
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) _mm512_storeu_ps(acc + r * 256 + c * 16, a[r][c]);
}

BF16_TARGET void lora_bf16_dot1xn(float *acc, const uint16_t *x, const uint16_t *w, ptrdiff_t w_stride,
                                  ptrdiff_t count, int columns) {
    __m512 a[8];
    for (int c = 0; c < 8; c++) a[c] = c < columns ? _mm512_loadu_ps(acc + c * 16) : _mm512_setzero_ps();
    for (ptrdiff_t i = 0; i < count; i += 32) {
        ptrdiff_t n = count - i;
        __m512bh xv = load_pairs(x + i, n);
        for (int c = 0; c < 8; c++)
            if (c < columns) a[c] = _mm512_dpbf16_ps(a[c], xv, load_pairs(w + c * w_stride + i, n));
    }
    for (int c = 0; c < columns; c++) _mm512_storeu_ps(acc + c * 16, a[c]);
}

BF16_TARGET static inline __m512 widen_bf16(__m256i v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
}

/// Vector `v` of a weight panel row holding `vectors` vectors, in lora-viz's
/// paired bf16 layout (WeightPanels.swift): columns i and 16 + i of every 32
/// share a 32-bit word; an odd last vector is stored plainly. Lanes outside `m` read 0.
BF16_TARGET static inline __m512 panel_vector(const uint16_t *row, int v, int vectors, __mmask16 m) {
    if (vectors % 2 == 1 && v == vectors - 1) return widen_bf16(_mm256_maskz_loadu_epi16(m, row + v * 16));
    __m512i words = _mm512_maskz_loadu_epi32(m, row + (v / 2) * 32);
    return _mm512_castsi512_ps(v % 2 == 0 ? _mm512_slli_epi32(words, 16)
                                          : _mm512_and_si512(words, _mm512_set1_epi32((int)0xFFFF0000u)));
}

/// Lanes of column vector `v` (16 wide) below `columns`.
static inline __mmask16 column_mask(int v, int columns) {
    int n = columns - v * 16;
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

BF16_TARGET static inline void expand_epilogue(__m512 acc, __m512 scaling, uint16_t *dst, __mmask16 m) {
    __m512 rounded = widen_bf16((__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(acc, scaling)));
    __m512 sum = _mm512_add_ps(rounded, widen_bf16(_mm256_maskz_loadu_epi16(m, dst)));
    _mm256_mask_storeu_epi16(dst, m, (__m256i)_mm512_cvtneps_pbh(sum));
}

BF16_TARGET void lora_bf16_expand_tile(const float *x, ptrdiff_t x_stride, const ptrdiff_t *rows, int row_count,
                                       const uint16_t *w, ptrdiff_t w_stride, int r, uint16_t *out,
                                       ptrdiff_t out_stride, ptrdiff_t out_column, int columns, float scaling) {
    const __m512 s = _mm512_set1_ps(scaling);
    int vectors = (columns + 15) / 16;
    for (int v0 = 0; v0 < vectors; v0 += 4) {
        __mmask16 m[4];
        for (int i = 0; i < 4; i++) m[i] = column_mask(v0 + i, columns);
        int j = 0;
        for (; j + 4 <= row_count; j += 4) {
            __m512 acc[4][4];
            for (int a = 0; a < 4; a++)
                for (int i = 0; i < 4; i++) acc[a][i] = _mm512_setzero_ps();
            for (int k = 0; k < r; k++) {
                __m512 wv[4];
                for (int i = 0; i < 4; i++)
                    wv[i] = panel_vector(w + k * w_stride, v0 + i, vectors, m[i]);
                for (int a = 0; a < 4; a++) {
                    __m512 xb = _mm512_set1_ps(x[(j + a) * x_stride + k]);
                    for (int i = 0; i < 4; i++) acc[a][i] = _mm512_fmadd_ps(xb, wv[i], acc[a][i]);
                }
            }
            for (int a = 0; a < 4; a++) {
                uint16_t *dst = out + rows[j + a] * out_stride + out_column + v0 * 16;
                for (int i = 0; i < 4; i++) expand_epilogue(acc[a][i], s, dst + i * 16, m[i]);
            }
        }
        for (; j < row_count; j++) {
            __m512 acc[4];
            for (int i = 0; i < 4; i++) acc[i] = _mm512_setzero_ps();
            for (int k = 0; k < r; k++) {
                __m512 xb = _mm512_set1_ps(x[j * x_stride + k]);
                for (int i = 0; i < 4; i++)
                    acc[i] = _mm512_fmadd_ps(xb, panel_vector(w + k * w_stride, v0 + i, vectors, m[i]), acc[i]);
            }
            uint16_t *dst = out + rows[j] * out_stride + out_column + v0 * 16;
            for (int i = 0; i < 4; i++) expand_epilogue(acc[i], s, dst + i * 16, m[i]);
        }
    }
}

#else

int lora_bf16_dot_available(void) { return 0; }
void lora_bf16_dot4x4(float *acc, const uint16_t *x0, const uint16_t *x1, const uint16_t *x2,
                      const uint16_t *x3, const uint16_t *w, ptrdiff_t w_stride, ptrdiff_t count) {
    (void)acc; (void)x0; (void)x1; (void)x2; (void)x3; (void)w; (void)w_stride; (void)count;
}
void lora_bf16_dot1xn(float *acc, const uint16_t *x, const uint16_t *w, ptrdiff_t w_stride,
                      ptrdiff_t count, int columns) {
    (void)acc; (void)x; (void)w; (void)w_stride; (void)count; (void)columns;
}
void lora_bf16_expand_tile(const float *x, ptrdiff_t x_stride, const ptrdiff_t *rows, int row_count,
                           const uint16_t *w, ptrdiff_t w_stride, int r, uint16_t *out, ptrdiff_t out_stride,
                           ptrdiff_t out_column, int columns, float scaling) {
    (void)x; (void)x_stride; (void)rows; (void)row_count; (void)w; (void)w_stride; (void)r;
    (void)out; (void)out_stride; (void)out_column; (void)columns; (void)scaling;
}

#endif
