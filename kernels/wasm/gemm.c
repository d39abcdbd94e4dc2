/* f32 GEMM: C = op(A) @ op(B), op = identity or transpose, any M, N, K >= 0.
 *
 * GotoBLAS-style: op(B) is packed in KC x NC blocks as panels of NR columns, op(A) in MC x KC
 * blocks as panels of MR rows (zero-padded at the edges, so the micro-kernel never branches),
 * and an MR x NR register-blocked micro-kernel of f32x4 accumulators runs over the panels.
 * Packing is where the transposes are absorbed: every layout reaches the micro-kernel the same.
 *
 * Row-major with leading dimensions: A is M x K (lda) or, transposed, K x M; B is K x N (ldb)
 * or, transposed, N x K; C is M x N (ldc). */
#include "simd.h"

#define MR 4
#define NR 8
#define KC 256
#define MC 128
#define NC 1024

/* Pack buffers live in a caller's workspace (static arrays would ship as 1.2 MB of zeros in
 * the module's data segment); set per call, 16-byte aligned for v128 loads. */
static float *a_pack, *b_pack;

/* Floats the workspace passed to wk_sgemm must hold. */
int wk_sgemm_workspace(void) { return MC * KC + KC * NC + 4; }

/* The 4 x 4 transpose of rows r0..r3: t[q] = (r0[q], r1[q], r2[q], r3[q]). */
static inline void transpose4(v4f r0, v4f r1, v4f r2, v4f r3, v4f t[4]) {
    v4f lo01 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5);
    v4f lo23 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
    v4f hi01 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
    v4f hi23 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
    t[0] = __builtin_shufflevector(lo01, lo23, 0, 1, 4, 5);
    t[1] = __builtin_shufflevector(lo01, lo23, 2, 3, 6, 7);
    t[2] = __builtin_shufflevector(hi01, hi23, 0, 1, 4, 5);
    t[3] = __builtin_shufflevector(hi01, hi23, 2, 3, 6, 7);
}

/* dst[k * stride + r] = rows[r][k] for r < 4, k < kc: four rows of a row-major matrix
 * interleaved into a panel (4 x 4 blocks transposed in registers, then the tail of k). */
static void interleave4(const float *r0, const float *r1, const float *r2, const float *r3,
                        int kc, float *dst, int stride) {
    int k = 0;
    for (; k + 4 <= kc; k += 4) {
        v4f t[4];
        transpose4(LOADU(r0 + k), LOADU(r1 + k), LOADU(r2 + k), LOADU(r3 + k), t);
        for (int q = 0; q < 4; q++) STOREU(dst + (long)(k + q) * stride, t[q]);
    }
    for (; k < kc; k++) {
        float *d = dst + (long)k * stride;
        d[0] = r0[k]; d[1] = r1[k]; d[2] = r2[k]; d[3] = r3[k];
    }
}

/* op(A)[i0:i0+mc, p0:p0+kc] -> ceil(mc/MR) panels, each kc x MR (row r of the panel at +r). */
static void pack_a(const float *a, int lda, int trans, int i0, int mc, int p0, int kc) {
    float *dst = a_pack;
    for (int i = 0; i < mc; i += MR) {
        int rows = mc - i < MR ? mc - i : MR;
        if (trans) {
            /* A stored K x M: the MR values of one k are adjacent. */
            const float *src = a + (long)p0 * lda + i0 + i;
            for (int k = 0; k < kc; k++, src += lda, dst += MR) {
                if (rows == MR) {
                    STOREU(dst, LOADU(src));
                } else {
                    for (int r = 0; r < MR; r++) dst[r] = r < rows ? src[r] : 0.0f;
                }
            }
        } else if (rows == MR) {
            const float *src = a + (long)(i0 + i) * lda + p0;
            interleave4(src, src + lda, src + 2L * lda, src + 3L * lda, kc, dst, MR);
            dst += kc * MR;
        } else {
            const float *src = a + (long)(i0 + i) * lda + p0;
            for (int r = 0; r < MR; r++) {
                if (r < rows) {
                    const float *row = src + (long)r * lda;
                    for (int k = 0; k < kc; k++) dst[k * MR + r] = row[k];
                } else {
                    for (int k = 0; k < kc; k++) dst[k * MR + r] = 0.0f;
                }
            }
            dst += kc * MR;
        }
    }
}

/* op(B)[p0:p0+kc, j0:j0+nc] -> ceil(nc/NR) panels, each kc x NR. */
static void pack_b(const float *b, int ldb, int trans, int p0, int kc, int j0, int nc) {
    float *dst = b_pack;
    for (int j = 0; j < nc; j += NR) {
        int cols = nc - j < NR ? nc - j : NR;
        if (trans && cols == NR) {
            /* B stored N x K: each column's K values are a row; two groups of four. */
            const float *col = b + (long)(j0 + j) * ldb + p0;
            interleave4(col, col + ldb, col + 2L * ldb, col + 3L * ldb, kc, dst, NR);
            col += 4L * ldb;
            interleave4(col, col + ldb, col + 2L * ldb, col + 3L * ldb, kc, dst + 4, NR);
        } else if (trans) {
            for (int c = 0; c < NR; c++) {
                if (c < cols) {
                    const float *col = b + (long)(j0 + j + c) * ldb + p0;
                    for (int k = 0; k < kc; k++) dst[k * NR + c] = col[k];
                } else {
                    for (int k = 0; k < kc; k++) dst[k * NR + c] = 0.0f;
                }
            }
        } else {
            const float *src = b + (long)p0 * ldb + j0 + j;
            for (int k = 0; k < kc; k++, src += ldb) {
                float *d = dst + k * NR;
                if (cols == NR) {
                    STOREU(d, LOADU(src));
                    STOREU(d + 4, LOADU(src + 4));
                } else {
                    for (int c = 0; c < NR; c++) d[c] = c < cols ? src[c] : 0.0f;
                }
            }
        }
        dst += kc * NR;
    }
}

/* C[0:rows, 0:cols] (+)= a_panel @ b_panel over kc; `add` keeps what C holds. */
static void micro_kernel(int kc, const float *restrict a, const float *restrict b,
                         float *restrict c, int ldc, int rows, int cols, int add) {
    v4f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0};
    v4f c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
    for (int k = 0; k < kc; k++) {
        v4f b0 = *(const v4f *)b, b1 = *(const v4f *)(b + 4);
        v4f a0 = SPLAT(a[0]), a1 = SPLAT(a[1]), a2 = SPLAT(a[2]), a3 = SPLAT(a[3]);
        c00 = MADD(a0, b0, c00);
        c01 = MADD(a0, b1, c01);
        c10 = MADD(a1, b0, c10);
        c11 = MADD(a1, b1, c11);
        c20 = MADD(a2, b0, c20);
        c21 = MADD(a2, b1, c21);
        c30 = MADD(a3, b0, c30);
        c31 = MADD(a3, b1, c31);
        a += MR;
        b += NR;
    }
    if (rows == MR && cols == NR) {
        float *c0 = c, *c1 = c + ldc, *c2 = c + 2 * ldc, *c3 = c + 3 * ldc;
        if (add) {
            c00 += LOADU(c0); c01 += LOADU(c0 + 4);
            c10 += LOADU(c1); c11 += LOADU(c1 + 4);
            c20 += LOADU(c2); c21 += LOADU(c2 + 4);
            c30 += LOADU(c3); c31 += LOADU(c3 + 4);
        }
        STOREU(c0, c00); STOREU(c0 + 4, c01);
        STOREU(c1, c10); STOREU(c1 + 4, c11);
        STOREU(c2, c20); STOREU(c2 + 4, c21);
        STOREU(c3, c30); STOREU(c3 + 4, c31);
        return;
    }
    float tile[MR * NR] __attribute__((aligned(16)));
    *(v4f *)(tile + 0) = c00; *(v4f *)(tile + 4) = c01;
    *(v4f *)(tile + 8) = c10; *(v4f *)(tile + 12) = c11;
    *(v4f *)(tile + 16) = c20; *(v4f *)(tile + 20) = c21;
    *(v4f *)(tile + 24) = c30; *(v4f *)(tile + 28) = c31;
    for (int r = 0; r < rows; r++) {
        for (int j = 0; j < cols; j++) {
            float v = tile[r * NR + j];
            c[(long)r * ldc + j] = add ? c[(long)r * ldc + j] + v : v;
        }
    }
}

/* C = op(A) @ op(B); with `accumulate`, C += op(A) @ op(B). `work`: wk_sgemm_workspace()
 * floats. */
void wk_sgemm(int m, int n, int k, const float *a, int lda, int trans_a, const float *b,
              int ldb, int trans_b, float *c, int ldc, int accumulate, float *work) {
    if (m <= 0 || n <= 0) return;
    a_pack = (float *)(((unsigned long)work + 15) & ~15ul);
    b_pack = a_pack + MC * KC;
    if (k <= 0) {
        if (!accumulate)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) c[(long)i * ldc + j] = 0.0f;
        return;
    }
    for (int j0 = 0; j0 < n; j0 += NC) {
        int nc = n - j0 < NC ? n - j0 : NC;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = k - p0 < KC ? k - p0 : KC;
            int add = accumulate || p0 > 0;
            pack_b(b, ldb, trans_b, p0, kc, j0, nc);
            for (int i0 = 0; i0 < m; i0 += MC) {
                int mc = m - i0 < MC ? m - i0 : MC;
                pack_a(a, lda, trans_a, i0, mc, p0, kc);
                for (int j = 0; j < nc; j += NR) {
                    int cols = nc - j < NR ? nc - j : NR;
                    const float *bp = b_pack + (long)(j / NR) * kc * NR;
                    for (int i = 0; i < mc; i += MR) {
                        int rows = mc - i < MR ? mc - i : MR;
                        micro_kernel(kc, a_pack + (long)(i / MR) * kc * MR, bp,
                                     c + (long)(i0 + i) * ldc + j0 + j, ldc, rows, cols, add);
                    }
                }
            }
        }
    }
}

/* A batch of products: matrix i of A, B and C starts stride_a, stride_b, stride_c floats after
 * matrix i - 1 (a stride of 0 broadcasts one matrix to the whole batch). */
void wk_sgemm_batched(int batch, int m, int n, int k, const float *a, int lda, int trans_a,
                      long stride_a, const float *b, int ldb, int trans_b, long stride_b,
                      float *c, int ldc, long stride_c, float *work) {
    for (int i = 0; i < batch; i++)
        wk_sgemm(m, n, k, a + i * stride_a, lda, trans_a, b + i * stride_b, ldb, trans_b,
                 c + i * stride_c, ldc, 0, work);
}
