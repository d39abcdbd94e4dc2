/* Shared by the WASM SIMD kernels: 128-bit float vectors written with clang's generic vector
 * extension, which -msimd128 lowers to f32x4 instructions (and which also compile natively,
 * for debugging). Freestanding: no libc, so no memcpy/memset; loops instead. */
#ifndef WEBKERAS_SIMD_H
#define WEBKERAS_SIMD_H

typedef float v4f __attribute__((vector_size(16)));
/* The same vector at 4-byte alignment: an unaligned v128.load/store. */
typedef float v4f_u __attribute__((vector_size(16), aligned(4)));

#define LOADU(p) (*(const v4f_u *)(p))
#define STOREU(p, v) (*(v4f_u *)(p) = (v))
#define SPLAT(x) ((v4f){(x), (x), (x), (x)})

/* a * b + c: one f32x4.relaxed_madd in the relaxed-SIMD build (fused where the CPU has FMA;
 * Chrome 114+, clang >= 16 for the standard opcode), else a multiply and an add. */
#ifdef __wasm_relaxed_simd__
#define MADD(a, b, c) __builtin_wasm_relaxed_madd_f32x4((a), (b), (c))
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#endif

#endif
