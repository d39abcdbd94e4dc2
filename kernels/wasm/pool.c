#include "simd.h"

/* 2-D max / average pooling and its gradient, channels-last (1-D runs as height 1).
 *
 * x is (batch, h, w, c), unpadded; output (oy, ox) pools the window of ph x pw positions
 * starting at (oy*sy - top, ox*sx - left), over the positions inside x only: padding never
 * wins a max and is not counted by an average (as the NumPy backend does). */

typedef int v4i __attribute__((vector_size(16)));

/* The window of one output position along one axis, clipped to [0, n). */
static void clip_window(int start, int size, int n, int *lo, int *hi) {
    *lo = start < 0 ? 0 : start;
    *hi = start + size > n ? n : start + size;
}

/* The max of four vectors, NaN winning: pmax (one maxps in V8; f32x4.max is ~6 instructions
 * for its NaN and signed-zero rules) returns one of its operands' bits, and a NaN anywhere sets
 * every bit of its lane (a NaN). */
static v4f max4(v4f a, v4f b, v4f c, v4f d) {
    v4f m = __builtin_wasm_pmax_f32x4(__builtin_wasm_pmax_f32x4(a, b),
                                      __builtin_wasm_pmax_f32x4(c, d));
    v4i nan = (a != a) | (b != b) | (c != c) | (d != d);
    return (v4f)((v4i)m | nan);
}

/* A 2x2 window wholly inside x (MaxPooling2D's default), four channels at a time from
 * channel 0; returns the first channel it left to the general loop. The average adds in the
 * general loop's order, so both give the same bits. */
static int pool_2x2(const float *q, int w, int c, int average, float *y) {
    const float *q1 = q + c, *q2 = q + (long)w * c, *q3 = q2 + c;
    int ch = 0;
    for (; ch + 4 <= c; ch += 4) {
        v4f a = LOADU(q + ch), b = LOADU(q1 + ch), d = LOADU(q2 + ch), e = LOADU(q3 + ch);
        STOREU(y + ch, average ? (((a + b) + d) + e) / SPLAT(4.0f) : max4(a, b, d, e));
    }
    return ch;
}

void wk_pool2d(const float *x, int batch, int h, int w, int c, int ph, int pw, int sy, int sx,
               int top, int left, int oh, int ow, int average, float *y) {
    for (int b = 0; b < batch; b++) {
        const float *image = x + (long)b * h * w * c;
        for (int oy = 0; oy < oh; oy++) {
            int y0, y1;
            clip_window(oy * sy - top, ph, h, &y0, &y1);
            for (int ox = 0; ox < ow; ox++, y += c) {
                int x0, x1;
                clip_window(ox * sx - left, pw, w, &x0, &x1);
                float init = average ? 0.0f : -__builtin_inff();
                float count = (float)((y1 - y0) * (x1 - x0));
                int ch = y1 - y0 == 2 && x1 - x0 == 2
                             ? pool_2x2(image + ((long)y0 * w + x0) * c, w, c, average, y)
                             : 0;
                /* Four channels at a time; NaN wins, as in NumPy's max: a diverged run shows it. */
                for (; ch + 4 <= c; ch += 4) {
                    v4f acc = SPLAT(init);
                    for (int iy = y0; iy < y1; iy++) {
                        for (int ix = x0; ix < x1; ix++) {
                            v4f v = LOADU(image + ((long)iy * w + ix) * c + ch);
                            if (average) {
                                acc += v;
                            } else {
                                v4i take = (v > acc) | (v != v);
                                acc = (v4f)(((v4i)v & take) | ((v4i)acc & ~take));
                            }
                        }
                    }
                    STOREU(y + ch, average ? acc / SPLAT(count) : acc);
                }
                for (; ch < c; ch++) {
                    float acc = init;
                    for (int iy = y0; iy < y1; iy++) {
                        for (int ix = x0; ix < x1; ix++) {
                            float v = image[((long)iy * w + ix) * c + ch];
                            if (average) acc += v;
                            else if (v > acc || v != v) acc = v;
                        }
                    }
                    y[ch] = average ? acc / count : acc;
                }
            }
        }
    }
}

/* dx += the gradient `g` of pooling's output y sent back to x: an average's share to every
 * position of its window; a max's to the positions equal to the max (ties share it equally,
 * like the NumPy backend). dx (shaped like x) must hold zeros beforehand. */
void wk_pool2d_grad(const float *x, const float *y, const float *g, int batch, int h, int w,
                    int c, int ph, int pw, int sy, int sx, int top, int left, int oh, int ow,
                    int average, float *dx) {
    for (int b = 0; b < batch; b++) {
        const float *image = x + (long)b * h * w * c;
        float *grad_image = dx + (long)b * h * w * c;
        for (int oy = 0; oy < oh; oy++) {
            int y0, y1;
            clip_window(oy * sy - top, ph, h, &y0, &y1);
            for (int ox = 0; ox < ow; ox++, y += c, g += c) {
                int x0, x1;
                clip_window(ox * sx - left, pw, w, &x0, &x1);
                float count = (float)((y1 - y0) * (x1 - x0));
                int ch = 0;
                /* Four channels at a time: compare masks count the ties and select the adds. */
                for (; ch + 4 <= c; ch += 4) {
                    v4f yv = LOADU(y + ch), share;
                    if (average) {
                        share = LOADU(g + ch) / SPLAT(count);
                    } else {
                        v4i ties = {0, 0, 0, 0};
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++)
                                ties -= LOADU(image + ((long)iy * w + ix) * c + ch) == yv;
                        /* No tie (y is NaN): 0/0 shares, masked out below. */
                        share = LOADU(g + ch) / __builtin_convertvector(ties, v4f);
                    }
                    for (int iy = y0; iy < y1; iy++) {
                        for (int ix = x0; ix < x1; ix++) {
                            long at = ((long)iy * w + ix) * c + ch;
                            v4f add = share;
                            if (!average) add = (v4f)((v4i)share & (LOADU(image + at) == yv));
                            STOREU(grad_image + at, LOADU(grad_image + at) + add);
                        }
                    }
                }
                for (; ch < c; ch++) {
                    float share;
                    if (average) {
                        share = g[ch] / count;
                    } else {
                        int ties = 0;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++)
                                ties += image[((long)iy * w + ix) * c + ch] == y[ch];
                        if (ties == 0) continue;
                        share = g[ch] / (float)ties;
                    }
                    for (int iy = y0; iy < y1; iy++) {
                        for (int ix = x0; ix < x1; ix++) {
                            long at = ((long)iy * w + ix) * c + ch;
                            if (average || image[at] == y[ch]) grad_image[at] += share;
                        }
                    }
                }
            }
        }
    }
}
