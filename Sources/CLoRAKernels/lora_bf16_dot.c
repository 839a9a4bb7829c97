#include "lora_bf16_dot.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bf16")))

int lora_bf16_dot_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
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

#endif
