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

/* a * b + c (two instructions: fused multiply-add needs relaxed SIMD, not in this build). */
#define MADD(a, b, c) ((a) * (b) + (c))

#endif
