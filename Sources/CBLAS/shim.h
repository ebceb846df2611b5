// CBLAS: the system OpenBLAS (cblas.h) and LAPACKE (lapacke.h) from Debian's libopenblas-dev / liblapacke-dev,
// and the per-thread float mode its kernels run in.
#pragma once
#include <cblas.h>
#include <lapacke.h>
#include <malloc.h>   // mallopt: keep large freed blocks in the heap (see Storage.swift)
// OpenBLAS extension: threads used by BLAS calls (declared by openblas' cblas.h too).

/// Sets flush-to-zero and denormals-are-zero on the calling thread (MXCSR bits 15 and 6; FPCR.FZ on arm64).
static inline void recalign_flush_subnormals(void) {
#if defined(__x86_64__)
    __builtin_ia32_ldmxcsr(__builtin_ia32_stmxcsr() | 0x8040);
#elif defined(__aarch64__)
    unsigned long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr | (1UL << 24)));
#endif
}

/// 1 when the calling thread flushes subnormal inputs and results to zero (always 1 on other architectures).
static inline int recalign_subnormals_flushed(void) {
#if defined(__x86_64__)
    return (__builtin_ia32_stmxcsr() & 0x8040) == 0x8040;
#elif defined(__aarch64__)
    unsigned long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (fpcr >> 24) & 1;
#else
    return 1;
#endif
}
