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

/* SGD, with momentum when `velocity` is not null (Nesterov's when `nesterov`): the NumPy
 * backend's sgd_update in one pass, the same float32 operations in the same order. */
void wk_sgd(float *restrict var, const float *restrict grad, float *restrict velocity, int n,
            float lr, float momentum, int nesterov) {
    if (!velocity) {
        for (int i = 0; i < n; i++) {
            float step = grad[i] * lr;
            var[i] -= step;
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        float step = grad[i] * lr;
        float vi = velocity[i] * momentum;
        vi -= step;
        velocity[i] = vi;
        if (nesterov) {
            float ahead = vi * momentum;
            ahead -= step;
            var[i] += ahead;
        } else {
            var[i] += vi;
        }
    }
}
