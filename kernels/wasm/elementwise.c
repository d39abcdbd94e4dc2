/* The element-wise passes a convolution layer makes over its output (bias, then ReLU), which
 * Pyodide's scalar NumPy runs at ~2 ns per element (np.maximum's NaN checks); memory speed here. */
#include "simd.h"

/* y = max(x, 0) over n floats (y may be x); NaN stays NaN, as in np.maximum. */
void wk_relu(const float *x, int n, float *y) {
    v4f zero = {0};
    int i = 0;
    for (; i + 4 <= n; i += 4) STOREU(y + i, __builtin_wasm_max_f32x4(LOADU(x + i), zero));
    for (; i < n; i++) y[i] = x[i] != x[i] || x[i] > 0.0f ? x[i] : 0.0f;
}

/* y[r, :] = x[r, :] + bias for rows x cols floats (y may be x). */
void wk_add_bias(const float *x, int rows, int cols, const float *bias, float *y) {
    for (int r = 0; r < rows; r++, x += cols, y += cols) {
        int j = 0;
        for (; j + 4 <= cols; j += 4) STOREU(y + j, LOADU(x + j) + LOADU(bias + j));
        for (; j < cols; j++) y[j] = x[j] + bias[j];
    }
}

/* The gradient of ReLU from its output: dx = g * (y > 0 ? 1 : 0) over n floats (a multiply,
 * not a select, so an infinite or NaN g under y <= 0 gives NaN as in NumPy's g * mask). */
void wk_relu_grad(const float *g, const float *y, int n, float *dx) {
    v4f zero = {0}, one = SPLAT(1.0f);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v4f mask = (v4f)((LOADU(y + i) > zero) & (__typeof__(LOADU(y + i) > zero))one);
        STOREU(dx + i, LOADU(g + i) * mask);
    }
    for (; i < n; i++) dx[i] = g[i] * (y[i] > 0.0f ? 1.0f : 0.0f);
}

/* out[j] = sum over r of x[r, j] for rows x cols floats, rows added in order (NumPy's order
 * for a float32 sum over leading axes, so the same bits): a bias's gradient. rows >= 1. */
void wk_sum_rows(const float *x, int rows, int cols, float *out) {
    for (int j = 0; j < cols; j++) out[j] = x[j];
    for (int r = 1; r < rows; r++) {
        const float *row = x + (long)r * cols;
        int j = 0;
        for (; j + 4 <= cols; j += 4) STOREU(out + j, LOADU(out + j) + LOADU(row + j));
        for (; j < cols; j++) out[j] += row[j];
    }
}
