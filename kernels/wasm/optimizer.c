/* Optimizer updates in one pass over each variable (NumPy makes ~8 passes and temporaries).
 * Same float32 operations in the same order as the NumPy backend's adam_update. */

void wk_adam(float *restrict var, const float *restrict grad, float *restrict m,
             float *restrict v, int n, float alpha, float one_minus_beta_1,
             float one_minus_beta_2, float epsilon) {
    for (int i = 0; i < n; i++) {
        float g = grad[i];
        float mi = m[i] + (g - m[i]) * one_minus_beta_1;
        float vi = v[i] + (g * g - v[i]) * one_minus_beta_2;
        m[i] = mi;
        v[i] = vi;
        var[i] -= alpha * mi / (__builtin_sqrtf(vi) + epsilon);
    }
}
