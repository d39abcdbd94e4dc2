/* im2col / col2im for 2-D channels-last convolution (1-D runs as height 1), groups = 1.
 *
 * x is (batch, h, w, c), already padded; an output position (b, oy, ox) reads, for each tap
 * (ky, kx), the c channels at x[b, oy*sy + ky*dy, ox*sx + kx*dx, :]. Its patch row is those
 * taps one after another, tap-major ((ky, kx, c), the order of a (kh, kw, c, f) kernel), so
 * forward = patches @ kernel, and the kernel gradient = patches^T @ grad (kernels/wasm/gemm.c).
 * With no horizontal dilation the kw taps of one kernel row are kw * c adjacent floats. */
#include "simd.h"

static void copy_floats(float *restrict dst, const float *restrict src, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) STOREU(dst + i, LOADU(src + i));
    for (; i < n; i++) dst[i] = src[i];
}

static void add_floats(float *restrict dst, const float *restrict src, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) STOREU(dst + i, LOADU(dst + i) + LOADU(src + i));
    for (; i < n; i++) dst[i] += src[i];
}

/* patches[(b, oy, ox), (ky, kx, ch)] for b in [b0, b0 + nb): rows of kh * kw * c floats. */
void wk_im2col(const float *x, int b0, int nb, int h, int w, int c, int kh, int kw, int sy,
               int sx, int dy, int dx, int oh, int ow, float *patches) {
    int row = kh * kw * c;
    float *dst = patches;
    for (int b = b0; b < b0 + nb; b++) {
        const float *image = x + (long)b * h * w * c;
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++, dst += row) {
                float *d = dst;
                for (int ky = 0; ky < kh; ky++) {
                    const float *src = image + ((long)(oy * sy + ky * dy) * w + ox * sx) * c;
                    if (dx == 1) {
                        copy_floats(d, src, kw * c);
                        d += kw * c;
                    } else {
                        for (int kx = 0; kx < kw; kx++, d += c) copy_floats(d, src + (long)kx * dx * c, c);
                    }
                }
            }
        }
    }
}

/* dx[b, ...] += every patch row added back where im2col read it, for b in [b0, b0 + nb);
 * dx must hold zeros (or what to add to) beforehand. */
void wk_col2im(const float *patches, int b0, int nb, int h, int w, int c, int kh, int kw,
               int sy, int sx, int dy, int dx, int oh, int ow, float *out) {
    int row = kh * kw * c;
    const float *src = patches;
    for (int b = b0; b < b0 + nb; b++) {
        float *image = out + (long)b * h * w * c;
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++, src += row) {
                const float *s = src;
                for (int ky = 0; ky < kh; ky++) {
                    float *d = image + ((long)(oy * sy + ky * dy) * w + ox * sx) * c;
                    if (dx == 1) {
                        add_floats(d, s, kw * c);
                        s += kw * c;
                    } else {
                        for (int kx = 0; kx < kw; kx++, s += c) add_floats(d + (long)kx * dx * c, s, c);
                    }
                }
            }
        }
    }
}
