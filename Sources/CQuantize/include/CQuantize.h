// CQuantize: the per-row u8 quantization and int32 -> float dequantization around oneDNN's int8 matmul (AVX2).
#pragma once
#include <stdint.h>

/// Quantizes each of `rows` rows of x [rows, k] to codes 0..top with x ≈ scale·(q − zero), the range widened to
/// hold 0 (so 0.0 has an exact code); writes q [rows, k] and each row's scale and zero (a whole number).
void recalign_quantize_rows_u8(const float *x, long rows, long k, float top, uint8_t *q, float *scale, float *zero);

/// The columns of x [rows, k] whose magnitude passes `threshold` in some row (LLM.int8()'s outlier features):
/// writes their indices in ascending order to `outliers` (room for k) and returns how many there are.
/// `colmax` is scratch for k floats.
long recalign_outlier_columns(const float *x, long rows, long k, float threshold, long *outliers, float *colmax);

/// `recalign_quantize_rows_u8` with the `count` columns listed in `outliers` read as 0 (they go through float32
/// instead), whose values it gathers into xo [rows, count]. `work` holds k floats.
void recalign_quantize_rows_u8_split(const float *x, long rows, long k, const long *outliers, long count, float top,
                                     uint8_t *q, float *scale, float *zero, float *xo, float *work);

/// y[r, o] = weight_scale[o] · (scale[r] · acc[r, o] − scale[r] · zero[r] · weight_sum[o]) + bias[o] (bias may be
/// NULL), reading acc [rows, n] int32 and writing y [rows, n]; acc and y may be the same memory.
void recalign_dequantize_rows(const int32_t *acc, long rows, long n, const float *scale, const float *zero,
                              const float *weight_scale, const float *weight_sum, const float *bias, float *y);

/// bf16 bits of `count` floats, rounded to nearest even as PyTorch and oneDNN round (finite inputs: a NaN may not stay one).
void recalign_to_bf16(const float *x, long count, uint16_t *out);
