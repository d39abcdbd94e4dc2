/* Convolution without im2col, channels-last (1-D runs as height 1): grouped convolution as an
 * implicit GEMM, and depthwise convolution (one input channel per group) with its gradients.
 *
 * x is (batch, h, w, c), already padded; output (b, oy, ox) reads, for each tap (ky, kx), the
 * channels at x[b, oy*sy + ky*dy, ox*sx + kx*dx, :]. The kernel is (kh, kw, c / groups,
 * filters); group g reads channels [g*cg, (g+1)*cg) and writes filters [g*fg, (g+1)*fg).
 *
 * The implicit GEMM reads its A operand (the patches) straight from x: a register block is
 * PIX adjacent output positions x FB filters, its rows being PIX pointers into x. That saves
 * im2col's pass over kh*kw copies of the input, which dominates when the patch row is short
 * (few channels), and it is what makes grouped convolution one call. */
#include "simd.h"

#define PIX 4
#define FB 8

/* Group g's kernel columns in panels of FB (zero padded): packed[g][panel][tap*cg + ch][FB]. */
static void pack_kernel(const float *kernel, int depth, int filters, int groups, float *packed) {
    int fg = filters / groups, panels = (fg + FB - 1) / FB;
    for (int g = 0; g < groups; g++) {
        for (int p = 0; p < panels; p++) {
            int j0 = g * fg + p * FB, cols = fg - p * FB < FB ? fg - p * FB : FB;
            for (int r = 0; r < depth; r++, packed += FB) {
                const float *src = kernel + (long)r * filters + j0;
                for (int j = 0; j < FB; j++) packed[j] = j < cols ? src[j] : 0.0f;
            }
        }
    }
}

/* Bias in panels of FB like the kernel's columns (zero padded): the accumulators start there. */
static void pack_bias(const float *bias, int filters, int groups, float *packed) {
    int fg = filters / groups, panels = (fg + FB - 1) / FB;
    for (int g = 0; g < groups; g++)
        for (int p = 0; p < panels; p++, packed += FB)
            for (int j = 0; j < FB; j++) {
                int f = p * FB + j;
                packed[j] = bias && f < fg ? bias[g * fg + f] : 0.0f;
            }
}

/* Floats wk_conv_direct's `packed` must hold: the kernel's panels, the bias's, and one int per
 * tap (its offset into x). */
int wk_conv_direct_packed_size(int taps, int c, int filters, int groups) {
    int fg = filters / groups, panels = (fg + FB - 1) / FB;
    return groups * panels * FB * (taps * (c / groups) + 1) + taps;
}

/* One multiply-add step of a block: PIX input values (one channel of one tap) times the FB
 * kernel values at bp, into the accumulators c[r][0..1]. */
#define BLOCK_STEP(v0, v1, v2, v3, bp)                                                         \
    do {                                                                                       \
        v4f b0 = *(const v4f *)(bp), b1 = *(const v4f *)((bp) + 4);                            \
        v4f s0 = SPLAT(v0), s1 = SPLAT(v1), s2 = SPLAT(v2), s3 = SPLAT(v3);                    \
        c00 = MADD(s0, b0, c00);                                                               \
        c01 = MADD(s0, b1, c01);                                                               \
        c10 = MADD(s1, b0, c10);                                                               \
        c11 = MADD(s1, b1, c11);                                                               \
        c20 = MADD(s2, b0, c20);                                                               \
        c21 = MADD(s2, b1, c21);                                                               \
        c30 = MADD(s3, b0, c30);                                                               \
        c31 = MADD(s3, b1, c31);                                                               \
    } while (0)

/* One output position's FB results into its first `cols` filters. */
static inline void store_row(float *dst, v4f lo, v4f hi, int cols) {
    if (cols == FB) {
        STOREU(dst, lo);
        STOREU(dst + 4, hi);
    } else {
        float tile[FB] __attribute__((aligned(16)));
        *(v4f *)tile = lo;
        *(v4f *)(tile + 4) = hi;
        for (int j = 0; j < cols; j++) dst[j] = tile[j];
    }
}

/* A block's PIX x FB results, from the bias plus every tap's cg channels (read at a_r +
 * tap_offsets[t] + ch), clamped at 0 when `relu`, stored into the `cols` first columns of PIX
 * output rows `filters` floats apart (the first n of them). */
static void conv_block(const float *a0, const float *a1, const float *a2, const float *a3,
                       const int *tap_offsets, int taps, int cg, const float *bp,
                       const float *bias, int relu, int n, int cols, int filters, float *dst) {
    v4f c00 = *(const v4f *)bias, c01 = *(const v4f *)(bias + 4);
    v4f c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
    if (cg == 1) {
        /* One channel a tap (a first layer on a grayscale image): one flat loop. */
        for (int t = 0; t < taps; t++, bp += FB) {
            int at = tap_offsets[t];
            BLOCK_STEP(a0[at], a1[at], a2[at], a3[at], bp);
        }
    } else {
        for (int t = 0; t < taps; t++) {
            const float *t0 = a0 + tap_offsets[t], *t1 = a1 + tap_offsets[t];
            const float *t2 = a2 + tap_offsets[t], *t3 = a3 + tap_offsets[t];
            for (int ch = 0; ch < cg; ch++, bp += FB) BLOCK_STEP(t0[ch], t1[ch], t2[ch], t3[ch], bp);
        }
    }
    if (relu) {
        /* pmax(a, 0) = a < 0 ? 0 : a: one maxps in V8 (f32x4.max is ~6 instructions for its
         * NaN and signed-zero rules); NaN stays NaN, -0 stays -0 as in np.maximum(a, 0). */
        v4f zero = {0};
        c00 = __builtin_wasm_pmax_f32x4(c00, zero);
        c01 = __builtin_wasm_pmax_f32x4(c01, zero);
        c10 = __builtin_wasm_pmax_f32x4(c10, zero);
        c11 = __builtin_wasm_pmax_f32x4(c11, zero);
        c20 = __builtin_wasm_pmax_f32x4(c20, zero);
        c21 = __builtin_wasm_pmax_f32x4(c21, zero);
        c30 = __builtin_wasm_pmax_f32x4(c30, zero);
        c31 = __builtin_wasm_pmax_f32x4(c31, zero);
    }
    /* Row by row with constant names: an array of the accumulators indexed by a loop counter
     * went through the stack (in linear memory), which cost as much as the ReLU. */
    store_row(dst, c00, c01, cols);
    if (n > 1) store_row(dst + filters, c10, c11, cols);
    if (n > 2) store_row(dst + 2 * filters, c20, c21, cols);
    if (n > 3) store_row(dst + 3 * filters, c30, c31, cols);
}

/* An output position (image, row, column), walked in output order. */
struct position {
    int b, oy, ox;
};

/* Where the patch of output position *at starts in x; then *at moves to the next position.
 * (Four scalars, not an array indexed by a counter, which would live on the stack.) */
static inline const float *next_position(struct position *at, const float *x, int h, int w,
                                         int c, int sy, int sx, int oh, int ow) {
    const float *p = x + (((long)at->b * h + (long)at->oy * sy) * w + (long)at->ox * sx) * c;
    if (++at->ox == ow) {
        at->ox = 0;
        if (++at->oy == oh) at->oy = 0, at->b++;
    }
    return p;
}

/* y[b, oy, ox, :] for every output position, plus `bias` (filters floats; NULL: none), then
 * max(., 0) when `relu`: the epilogue of a Conv2D layer in the same pass (NaN stays NaN, as in
 * wk_relu). `packed`: wk_conv_direct_packed_size floats.
 *
 * The blocks of PIX positions run over the whole batch in output order, across row and image
 * ends: only the batch's last block can be partial (an 11-wide output row is not 2 blocks and
 * a quarter-empty third). */
void wk_conv_direct(const float *x, int batch, int h, int w, int c, int kh, int kw, int sy,
                    int sx, int dy, int dx, int oh, int ow, const float *kernel, int filters,
                    int groups, const float *bias, int relu, float *packed, float *y) {
    int cg = c / groups, fg = filters / groups, taps = kh * kw, depth = taps * cg;
    int panels = (fg + FB - 1) / FB;
    float *packed_bias = packed + (long)groups * panels * depth * FB;
    int *tap_offsets = (int *)(packed_bias + groups * panels * FB);
    pack_kernel(kernel, depth, filters, groups, packed);
    pack_bias(bias, filters, groups, packed_bias);
    for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++) tap_offsets[ky * kw + kx] = (ky * dy * w + kx * dx) * c;
    long positions = (long)batch * oh * ow;
    struct position at = {0, 0, 0};
    for (long i = 0; i < positions; i += PIX) {
        int n = positions - i < PIX ? (int)(positions - i) : PIX;
        /* Past the batch's end the block repeats its first position (results dropped). */
        const float *p0 = next_position(&at, x, h, w, c, sy, sx, oh, ow);
        const float *p1 = n > 1 ? next_position(&at, x, h, w, c, sy, sx, oh, ow) : p0;
        const float *p2 = n > 2 ? next_position(&at, x, h, w, c, sy, sx, oh, ow) : p0;
        const float *p3 = n > 3 ? next_position(&at, x, h, w, c, sy, sx, oh, ow) : p0;
        float *out = y + i * filters;
        for (int g = 0; g < groups; g++) {
            for (int panel = 0; panel < panels; panel++) {
                long k = (long)g * panels + panel;
                int cols = fg - panel * FB < FB ? fg - panel * FB : FB;
                conv_block(p0 + g * cg, p1 + g * cg, p2 + g * cg, p3 + g * cg, tap_offsets, taps,
                           cg, packed + k * depth * FB, packed_bias + k * FB, relu, n, cols,
                           filters, out + g * fg + panel * FB);
            }
        }
    }
}

/* -- depthwise: groups == c, one input channel per group, `m` filters each (filter ch*m + j) */

/* x[b, oy*sy + ky*dy, ox*sx + kx*dx, 0] for tap (ky, kx) of output (b, oy, ox). */
static const float *tap_at(const float *x, int b, int h, int w, int c, int oy, int ox, int ky,
                           int kx, int sy, int sx, int dy, int dx) {
    return x + (((long)b * h + (long)oy * sy + (long)ky * dy) * w + (long)ox * sx +
                (long)kx * dx) * c;
}

void wk_depthwise_conv(const float *x, int batch, int h, int w, int c, int kh, int kw, int sy,
                       int sx, int dy, int dx, int oh, int ow, const float *kernel, int m,
                       float *y) {
    int filters = c * m;
    for (int b = 0; b < batch; b++) {
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++, y += filters) {
                const float *x0 = tap_at(x, b, h, w, c, oy, ox, 0, 0, sy, sx, dy, dx);
                int f = 0;
                if (m == 1) {
                    for (; f + 4 <= filters; f += 4) {
                        v4f acc = {0};
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++) {
                                long at = ((long)ky * dy * w + (long)kx * dx) * c + f;
                                const float *k = kernel + (long)(ky * kw + kx) * filters + f;
                                acc = MADD(LOADU(x0 + at), LOADU(k), acc);
                            }
                        STOREU(y + f, acc);
                    }
                }
                for (; f < filters; f++) {
                    float acc = 0.0f;
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++)
                            acc += x0[((long)ky * dy * w + (long)kx * dx) * c + f / m] *
                                   kernel[(long)(ky * kw + kx) * filters + f];
                    y[f] = acc;
                }
            }
        }
    }
}

/* dx += the gradient `g` (batch, oh, ow, c*m) sent back through wk_depthwise_conv; dx (shaped
 * like x) must hold zeros beforehand. */
void wk_depthwise_conv_input_grad(const float *g, int batch, int h, int w, int c, int kh,
                                  int kw, int sy, int sx, int dy, int dx, int oh, int ow,
                                  const float *kernel, int m, float *out) {
    int filters = c * m;
    for (int b = 0; b < batch; b++) {
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++, g += filters) {
                for (int ky = 0; ky < kh; ky++) {
                    for (int kx = 0; kx < kw; kx++) {
                        float *d = (float *)tap_at(out, b, h, w, c, oy, ox, ky, kx, sy, sx, dy,
                                                   dx);
                        const float *k = kernel + (long)(ky * kw + kx) * filters;
                        int ch = 0;
                        if (m == 1)
                            for (; ch + 4 <= c; ch += 4)
                                STOREU(d + ch, MADD(LOADU(g + ch), LOADU(k + ch), LOADU(d + ch)));
                        for (; ch < c; ch++) {
                            float sum = 0.0f;
                            for (int j = 0; j < m; j++) sum += g[ch * m + j] * k[ch * m + j];
                            d[ch] += sum;
                        }
                    }
                }
            }
        }
    }
}

/* dk (kh, kw, 1, c*m) = the kernel gradient of wk_depthwise_conv for output gradient g;
 * dk must hold zeros beforehand. */
void wk_depthwise_conv_kernel_grad(const float *x, const float *g, int batch, int h, int w,
                                   int c, int kh, int kw, int sy, int sx, int dy, int dx,
                                   int oh, int ow, int m, float *dk) {
    int filters = c * m;
    for (int b = 0; b < batch; b++) {
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++, g += filters) {
                for (int ky = 0; ky < kh; ky++) {
                    for (int kx = 0; kx < kw; kx++) {
                        const float *s = tap_at(x, b, h, w, c, oy, ox, ky, kx, sy, sx, dy, dx);
                        float *k = dk + (long)(ky * kw + kx) * filters;
                        int f = 0;
                        if (m == 1)
                            for (; f + 4 <= filters; f += 4)
                                STOREU(k + f, MADD(LOADU(s + f), LOADU(g + f), LOADU(k + f)));
                        for (; f < filters; f++) k[f] += s[f / m] * g[f];
                    }
                }
            }
        }
    }
}
