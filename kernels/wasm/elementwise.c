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
