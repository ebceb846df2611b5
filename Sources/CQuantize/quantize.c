// CQuantize: AVX2 loops around the int8 matmul; Swift's SIMD types do not compile these to vector code.
#include "CQuantize.h"
#include <immintrin.h>
#include <math.h>

void recalign_quantize_rows_u8(const float *x, long rows, long k, float top, uint8_t *q, float *scale, float *zero) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * k;
        uint8_t *qr = q + r * k;
        __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
        long i = 0;
        for (; i + 8 <= k; i += 8) {
            __m256 v = _mm256_loadu_ps(row + i);
            lo = _mm256_min_ps(lo, v);
            hi = _mm256_max_ps(hi, v);
        }
        float l[8], h[8], mn = 0, mx = 0;
        _mm256_storeu_ps(l, lo);
        _mm256_storeu_ps(h, hi);
        for (int j = 0; j < 8; j++) { mn = l[j] < mn ? l[j] : mn; mx = h[j] > mx ? h[j] : mx; }
        for (; i < k; i++) { mn = row[i] < mn ? row[i] : mn; mx = row[i] > mx ? row[i] : mx; }
        float s = mx > mn ? (mx - mn) / top : 1.0f, inv = 1.0f / s, z = nearbyintf(-mn * inv);
        scale[r] = s;
        zero[r] = z;
        __m256 vinv = _mm256_set1_ps(inv), vz = _mm256_set1_ps(z), vtop = _mm256_set1_ps(top), v0 = _mm256_setzero_ps();
        i = 0;
        for (; i + 16 <= k; i += 16) {
            __m256 a = _mm256_fmadd_ps(_mm256_loadu_ps(row + i), vinv, vz);
            __m256 b = _mm256_fmadd_ps(_mm256_loadu_ps(row + i + 8), vinv, vz);
            a = _mm256_min_ps(_mm256_max_ps(a, v0), vtop);
            b = _mm256_min_ps(_mm256_max_ps(b, v0), vtop);
            __m256i ia = _mm256_cvtps_epi32(a), ib = _mm256_cvtps_epi32(b);   // round to nearest even
            __m256i w = _mm256_packus_epi32(ia, ib);                          // 16 x u16, lanes interleaved
            __m128i lo16 = _mm256_castsi256_si128(w), hi16 = _mm256_extracti128_si256(w, 1);
            __m128i bytes = _mm_packus_epi16(lo16, hi16);                     // a0-3 b0-3 a4-7 b4-7
            bytes = _mm_shuffle_epi8(bytes, _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15));
            _mm_storeu_si128((__m128i *)(qr + i), bytes);
        }
        for (; i < k; i++) {
            float c = row[i] * inv + z;
            c = c < 0 ? 0 : (c > top ? top : c);
            qr[i] = (uint8_t)nearbyintf(c);
        }
    }
}

void recalign_dequantize_rows(const int32_t *acc, long rows, long n, const float *scale, const float *zero,
                              const float *weight_scale, const float *weight_sum, const float *bias, float *y) {
    for (long r = 0; r < rows; r++) {
        const int32_t *a = acc + r * n;
        float *out = y + r * n;
        float s = scale[r], zs = zero[r] * s;
        __m256 vs = _mm256_set1_ps(s), vzs = _mm256_set1_ps(zs);
        long o = 0;
        for (; o + 8 <= n; o += 8) {
            __m256 v = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(a + o)));
            __m256 t = _mm256_fmsub_ps(vs, v, _mm256_mul_ps(vzs, _mm256_loadu_ps(weight_sum + o)));
            __m256 b = bias ? _mm256_loadu_ps(bias + o) : _mm256_setzero_ps();
            _mm256_storeu_ps(out + o, _mm256_fmadd_ps(_mm256_loadu_ps(weight_scale + o), t, b));
        }
        for (; o < n; o++) out[o] = weight_scale[o] * (s * (float)a[o] - zs * weight_sum[o]) + (bias ? bias[o] : 0.0f);
    }
}

long recalign_outlier_columns(const float *x, long rows, long k, float threshold, long *outliers, float *colmax) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    long i = 0;
    for (; i < k; i++) colmax[i] = 0;
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * k;
        for (i = 0; i + 8 <= k; i += 8) {
            __m256 v = _mm256_andnot_ps(sign, _mm256_loadu_ps(row + i));
            _mm256_storeu_ps(colmax + i, _mm256_max_ps(_mm256_loadu_ps(colmax + i), v));
        }
        for (; i < k; i++) { float v = fabsf(row[i]); colmax[i] = v > colmax[i] ? v : colmax[i]; }
    }
    long count = 0;
    for (i = 0; i < k; i++) if (colmax[i] > threshold) outliers[count++] = i;
    return count;
}

void recalign_quantize_rows_u8_split(const float *x, long rows, long k, const long *outliers, long count, float top,
                                     uint8_t *q, float *scale, float *zero, float *xo, float *work) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * k;
        for (long i = 0; i < k; i++) work[i] = row[i];
        for (long c = 0; c < count; c++) {
            xo[r * count + c] = row[outliers[c]];
            work[outliers[c]] = 0;
        }
        recalign_quantize_rows_u8(work, 1, k, top, q + r * k, scale + r, zero + r);
    }
}

void recalign_to_bf16(const float *x, long count, uint16_t *out) {
    const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7FFF);
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        __m256i a = _mm256_castps_si256(_mm256_loadu_ps(x + i)), b = _mm256_castps_si256(_mm256_loadu_ps(x + i + 8));
        a = _mm256_srli_epi32(_mm256_add_epi32(a, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(a, 16), one))), 16);
        b = _mm256_srli_epi32(_mm256_add_epi32(b, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(b, 16), one))), 16);
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);   // undo the per-lane interleave
        _mm256_storeu_si256((__m256i *)(out + i), p);
    }
    for (; i < count; i++) {
        uint32_t u;
        __builtin_memcpy(&u, x + i, 4);
        out[i] = (uint16_t)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
    }
}
