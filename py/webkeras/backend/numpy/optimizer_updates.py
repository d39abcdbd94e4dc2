"""The NumPy backend's fused optimizer updates: in place, one pass per step of the formula
(`out=`), into at most two scratch arrays the backend keeps.

The formulas are `Backend`'s (Keras 3's), rounded step for step as the composed defaults round
them (same operations, same order, scalars in the variable's dtype), so fused and composed
agree bit for bit. The scratch arrays are views of two flat buffers as large as the largest
variable updated so far: a large variable (an embedding's millions of weights) would otherwise
take fresh pages for each temporary at every step.
"""

import numpy as np

from webkeras.backend.base import adam_step_size


class OptimizerUpdates:
    """Mixin for NumpyBackend: sgd_update, adam_update, rmsprop_update (see `Backend`)."""

    _scratch_buffers = None

    def _scratch(self, like):
        """Two uninitialised arrays shaped and typed as `like` (views the next update reuses:
        never returned)."""
        buffers = self._scratch_buffers
        if buffers is None or buffers[0].dtype != like.dtype or buffers[0].size < like.size:
            buffers = self._scratch_buffers = [np.empty(like.size, like.dtype)
                                               for _ in range(2)]
        return [b[:like.size].reshape(like.shape) for b in buffers]

    @staticmethod
    def _apply_decay(var, learning_rate, weight_decay, scratch):
        if weight_decay:
            t = var.dtype.type
            np.multiply(var, t(weight_decay), out=scratch)
            scratch *= t(learning_rate)
            var -= scratch

    def sgd_update(self, var, grad, velocity, learning_rate, momentum, nesterov,
                   weight_decay=0.0):
        t = var.dtype.type
        step, other = self._scratch(var)
        self._apply_decay(var, learning_rate, weight_decay, step)
        np.multiply(grad, t(learning_rate), out=step)
        if velocity is None:
            var -= step
            return
        velocity *= t(momentum)
        velocity -= step
        if nesterov:
            np.multiply(velocity, t(momentum), out=other)
            other -= step
            var += other
        else:
            var += velocity

    def adam_update(self, var, grad, m, v, learning_rate, beta_1, beta_2, epsilon, step,
                    v_hat=None, weight_decay=0.0):
        t = var.dtype.type
        delta, denominator = self._scratch(var)
        self._apply_decay(var, learning_rate, weight_decay, delta)
        if v_hat is None and self.simd is not None and self.simd.adam_update(
                var, grad, m, v, learning_rate, beta_1, beta_2, epsilon, step):
            return
        np.subtract(grad, m, out=delta)
        delta *= t(1 - beta_1)
        m += delta
        np.square(grad, out=delta)
        delta -= v
        delta *= t(1 - beta_2)
        v += delta
        if v_hat is not None:
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        np.sqrt(v, out=denominator)
        denominator += t(epsilon)
        np.multiply(m, t(adam_step_size(learning_rate, beta_1, beta_2, step, var.dtype)),
                    out=delta)
        delta /= denominator
        var -= delta

    def rmsprop_update(self, var, grad, velocity, average_gradient, momentum_buffer,
                       learning_rate, rho, momentum, epsilon, weight_decay=0.0):
        t = var.dtype.type
        increment, denominator = self._scratch(var)
        self._apply_decay(var, learning_rate, weight_decay, increment)
        velocity *= t(rho)
        np.square(grad, out=increment)
        increment *= t(1 - rho)
        velocity += increment
        if average_gradient is not None:
            average_gradient *= t(rho)
            np.multiply(grad, t(1 - rho), out=increment)
            average_gradient += increment
            np.square(average_gradient, out=denominator)
            np.subtract(velocity, denominator, out=denominator)
            denominator += t(epsilon)
        else:
            np.add(velocity, t(epsilon), out=denominator)
        np.sqrt(denominator, out=denominator)
        np.multiply(grad, t(learning_rate), out=increment)
        increment /= denominator
        if momentum_buffer is not None:
            momentum_buffer *= t(momentum)
            momentum_buffer += increment
            increment = momentum_buffer
        var -= increment
