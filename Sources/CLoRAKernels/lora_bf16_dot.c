#include "lora_bf16_dot.h"

#include <string.h>

// Hand-written in C: Swift has no VDPBF16PS (no bf16 vector type, no
// intrinsic), and the Swift bf16 tiles, which widen each weight vector to
// fp32 and run one FMA per product, reach half the instruction's rate.

#if defined(__x86_64__)
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define INLINE __attribute__((always_inline)) static inline

int lora_bf16_dot_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

/// Pair j of a row, broadcast: (x[2j], x[2j + 1]) as one word in every lane.
BF16_TARGET INLINE __m512bh pair(const uint16_t *x, ptrdiff_t j) {
    int32_t word;
    memcpy(&word, x + 2 * j, 4);
    return (__m512bh)_mm512_set1_epi32(word);
}

/// The last, lone element of an odd run: (x[k], 0).
BF16_TARGET INLINE __m512bh lone(const uint16_t *x, ptrdiff_t k) { return (__m512bh)_mm512_set1_epi32((int32_t)x[k]); }

/// One pair row's products into M rows × V vectors (pair j, or the lone last element when `last`).
BF16_TARGET INLINE void step(const int M, const int V, __m512 a[8][8], const uint16_t *const *xr, const uint16_t *row,
                             ptrdiff_t panel_stride, ptrdiff_t j, int last) {
    __m512bh wv[8];
    for (int v = 0; v < V; v++) wv[v] = (__m512bh)_mm512_loadu_si512(row + (v / 4) * panel_stride + (v % 4) * 32);
    for (int i = 0; i < M; i++) {
        __m512bh xb = last ? lone(xr[i], 2 * j) : pair(xr[i], j);
        for (int v = 0; v < V; v++) a[i][v] = _mm512_dpbf16_ps(a[i][v], xb, wv[v]);
    }
}

/// M rows × V vectors; M, V constant at every call so that the accumulators stay in registers.
BF16_TARGET INLINE void tile(const int M, const int V, float *acc, ptrdiff_t acc_stride, const uint16_t *const *x,
                             ptrdiff_t x_offset, const uint16_t *w, ptrdiff_t w_stride, ptrdiff_t panel_stride,
                             ptrdiff_t count) {
    __m512 a[8][8];
    const uint16_t *xr[8];
    for (int i = 0; i < M; i++) {
        xr[i] = x[i] + x_offset;
        for (int v = 0; v < V; v++) a[i][v] = _mm512_loadu_ps(acc + (i * acc_stride + v) * 16);
    }
    ptrdiff_t pairs = count / 2;
    for (ptrdiff_t j = 0; j < pairs; j++) step(M, V, a, xr, w + j * w_stride, panel_stride, j, 0);
    if (count % 2) step(M, V, a, xr, w + pairs * w_stride, panel_stride, pairs, 1);
    for (int i = 0; i < M; i++)
        for (int v = 0; v < V; v++) _mm512_storeu_ps(acc + (i * acc_stride + v) * 16, a[i][v]);
}

#define TILE(M, V) tile(M, V, acc, acc_stride, x, x_offset, w, w_stride, panel_stride, count)

BF16_TARGET void lora_bf16_dot_tile(int rows, int vectors, float *acc, ptrdiff_t acc_stride, const uint16_t *const *x,
                                    ptrdiff_t x_offset, const uint16_t *w, ptrdiff_t w_stride, ptrdiff_t panel_stride,
                                    ptrdiff_t count) {
    switch (rows * 16 + vectors) {
    case 0x11: TILE(1, 1); break;
    case 0x12: TILE(1, 2); break;
    case 0x13: TILE(1, 3); break;
    case 0x14: TILE(1, 4); break;
    case 0x18: TILE(1, 8); break;
    case 0x41: TILE(4, 1); break;
    case 0x42: TILE(4, 2); break;
    case 0x43: TILE(4, 3); break;
    case 0x44: TILE(4, 4); break;
    case 0x61: TILE(6, 1); break;
    case 0x62: TILE(6, 2); break;
    case 0x63: TILE(6, 3); break;
    case 0x64: TILE(6, 4); break;
    case 0x81: TILE(8, 1); break;
    case 0x82: TILE(8, 2); break;
    default:
        // Any other shape, one row at a time (the same chains).
        for (int i = 0; i < rows; i++)
            for (int v = 0; v < vectors; v++)
                tile(1, 1, acc + (i * acc_stride + v) * 16, acc_stride, x + i, x_offset,
                     w + (v / 4) * panel_stride + (v % 4) * 32, w_stride, 0, count);
    }
}

/// Lanes of column vector `v` (16 wide) below `columns`.
INLINE __mmask16 column_mask(int v, int columns) {
    int n = columns - v * 16;
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

BF16_TARGET INLINE __m512 widen(__m256i v) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16)); }

/// The expand tile with accumulators in registers, the epilogue straight from them.
BF16_TARGET INLINE void expand(const int M, const int V, const uint16_t *const *x, const uint16_t *w, ptrdiff_t w_stride,
                               ptrdiff_t panel_stride, ptrdiff_t count, uint16_t *const *out, int columns, float scaling) {
    __m512 a[8][8];
    for (int i = 0; i < M; i++)
        for (int v = 0; v < V; v++) a[i][v] = _mm512_setzero_ps();
    ptrdiff_t pairs = count / 2;
    for (ptrdiff_t j = 0; j < pairs; j++) step(M, V, a, x, w + j * w_stride, panel_stride, j, 0);
    if (count % 2) step(M, V, a, x, w + pairs * w_stride, panel_stride, pairs, 1);
    const __m512 s = _mm512_set1_ps(scaling);
    for (int i = 0; i < M; i++) {
        for (int v = 0; v < V; v++) {
            __mmask16 m = column_mask(v, columns);
            uint16_t *dst = out[i] + v * 16;
            __m512 rounded = widen((__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(a[i][v], s)));
            __m512 sum = _mm512_add_ps(rounded, widen(_mm256_maskz_loadu_epi16(m, dst)));
            _mm256_mask_storeu_epi16(dst, m, (__m256i)_mm512_cvtneps_pbh(sum));
        }
    }
}

#define EXPAND(M, V) expand(M, V, x, w, w_stride, panel_stride, count, out, columns, scaling)

BF16_TARGET void lora_bf16_dot_expand(int rows, int vectors, const uint16_t *const *x, const uint16_t *w, ptrdiff_t w_stride,
                                      ptrdiff_t panel_stride, ptrdiff_t count, uint16_t *const *out, int columns,
                                      float scaling) {
    switch (rows * 16 + vectors) {
    case 0x11: EXPAND(1, 1); break;
    case 0x12: EXPAND(1, 2); break;
    case 0x13: EXPAND(1, 3); break;
    case 0x14: EXPAND(1, 4); break;
    case 0x18: EXPAND(1, 8); break;
    case 0x41: EXPAND(4, 1); break;
    case 0x42: EXPAND(4, 2); break;
    case 0x43: EXPAND(4, 3); break;
    case 0x44: EXPAND(4, 4); break;
    case 0x61: EXPAND(6, 1); break;
    case 0x62: EXPAND(6, 2); break;
    case 0x63: EXPAND(6, 3); break;
    case 0x64: EXPAND(6, 4); break;
    default:
        // Any other shape, one row at a time (the same chains).
        for (int i = 0; i < rows; i++)
            for (int v = 0; v < vectors; v++) {
                uint16_t *o = out[i] + v * 16;
                expand(1, 1, x + i, w + (v / 4) * panel_stride + (v % 4) * 32, w_stride, 0, count, &o, columns - v * 16,
                       scaling);
            }
    }
}

/// Four rows, each with its own weights.
BF16_TARGET INLINE void tile_rows(const int V, float *acc, ptrdiff_t acc_stride, const uint16_t *const *x,
                                  ptrdiff_t x_offset, const uint16_t *const *w, ptrdiff_t w_stride, ptrdiff_t count) {
    __m512 a[4][4];
    const uint16_t *xr[4];
    for (int i = 0; i < 4; i++) {
        xr[i] = x[i] + x_offset;
        for (int v = 0; v < V; v++) a[i][v] = _mm512_loadu_ps(acc + (i * acc_stride + v) * 16);
    }
    ptrdiff_t pairs = count / 2;
    for (ptrdiff_t j = 0; j < pairs + count % 2; j++) {
        for (int i = 0; i < 4; i++) {
            __m512bh xb = j < pairs ? pair(xr[i], j) : lone(xr[i], 2 * j);
            const uint16_t *row = w[i] + j * w_stride;
            for (int v = 0; v < V; v++)
                a[i][v] = _mm512_dpbf16_ps(a[i][v], xb, (__m512bh)_mm512_loadu_si512(row + v * 32));
        }
    }
    for (int i = 0; i < 4; i++)
        for (int v = 0; v < V; v++) _mm512_storeu_ps(acc + (i * acc_stride + v) * 16, a[i][v]);
}

BF16_TARGET void lora_bf16_dot_tile_rows(int vectors, float *acc, ptrdiff_t acc_stride, const uint16_t *const *x,
                                         ptrdiff_t x_offset, const uint16_t *const *w, ptrdiff_t w_stride,
                                         ptrdiff_t count) {
    switch (vectors) {
    case 1: tile_rows(1, acc, acc_stride, x, x_offset, w, w_stride, count); break;
    case 2: tile_rows(2, acc, acc_stride, x, x_offset, w, w_stride, count); break;
    case 3: tile_rows(3, acc, acc_stride, x, x_offset, w, w_stride, count); break;
    default: tile_rows(4, acc, acc_stride, x, x_offset, w, w_stride, count); break;
    }
}

BF16_TARGET float lora_bf16_dot_chains(long iterations, float seed) {
    __m512 a[12];
    // x = 1.0 and w ≈ 1e-7 in both halves: the chains grow by 2e-7 a step, no overflow.
    const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3F803F80), w = (__m512bh)_mm512_set1_epi32(0x33D633D6);
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps(seed + (float)i);
    for (long k = 0; k < iterations; k++) {
        for (int i = 0; i < 12; i++) a[i] = _mm512_dpbf16_ps(a[i], x, w);
        // Keeps the twelve chains in registers and the loop unfused.
        __asm__ volatile("" : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]), "+v"(a[4]), "+v"(a[5]), "+v"(a[6]),
                         "+v"(a[7]), "+v"(a[8]), "+v"(a[9]), "+v"(a[10]), "+v"(a[11]));
    }
    __m512 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}

#else

int lora_bf16_dot_available(void) { return 0; }
void lora_bf16_dot_tile(int rows, int vectors, float *acc, ptrdiff_t acc_stride, const uint16_t *const *x,
                        ptrdiff_t x_offset, const uint16_t *w, ptrdiff_t w_stride, ptrdiff_t panel_stride,
                        ptrdiff_t count) {
    (void)rows; (void)vectors; (void)acc; (void)acc_stride; (void)x; (void)x_offset; (void)w; (void)w_stride;
    (void)panel_stride; (void)count;
}
void lora_bf16_dot_tile_rows(int vectors, float *acc, ptrdiff_t acc_stride, const uint16_t *const *x,
                             ptrdiff_t x_offset, const uint16_t *const *w, ptrdiff_t w_stride, ptrdiff_t count) {
    (void)vectors; (void)acc; (void)acc_stride; (void)x; (void)x_offset; (void)w; (void)w_stride; (void)count;
}
void lora_bf16_dot_expand(int rows, int vectors, const uint16_t *const *x, const uint16_t *w, ptrdiff_t w_stride,
                          ptrdiff_t panel_stride, ptrdiff_t count, uint16_t *const *out, int columns, float scaling) {
    (void)rows; (void)vectors; (void)x; (void)w; (void)w_stride; (void)panel_stride; (void)count; (void)out;
    (void)columns; (void)scaling;
}
float lora_bf16_dot_chains(long iterations, float seed) { (void)iterations; return seed; }

#endif
