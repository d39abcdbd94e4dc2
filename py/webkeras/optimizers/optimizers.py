"""Keras 3 optimizers. SGD, Adam (AdamW, amsgrad) and RMSprop update each variable with one
fused backend primitive (weight decay included), which a traced step replays as one call with
the learning rate and step count re-read at each step; the others are written with
`keras.ops`, so they run on every backend. Each matches Keras step for step."""

import numpy as np

from webkeras import ops
from webkeras.backend import get_backend
from webkeras.optimizers.base import Optimizer

_f32 = np.float32


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum.

    `velocity = momentum * velocity - learning_rate * g`; `w += velocity`
    (Nesterov: `w += momentum * velocity - learning_rate * g`).
    """

    _fuses_weight_decay = True

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: {momentum}")
        self.momentum = float(momentum)
        self.nesterov = nesterov

    def _slot_groups(self):
        return [("momentum",)] if self.momentum != 0 else []

    def update_step(self, gradient, variable, learning_rate):
        velocity = self._get_slot(variable, "momentum").data if self.momentum != 0 else None
        get_backend().sgd_update(variable.data, gradient.data, velocity, learning_rate,
                                 self.momentum, self.nesterov,
                                 weight_decay=self._weight_decay_for(variable))

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba), Keras 3's form with `epsilon` added outside the square root."""

    _fuses_weight_decay = True

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.amsgrad = amsgrad

    def _slot_groups(self):
        groups = [("momentum", "velocity")]
        return groups + [("velocity_hat",)] if self.amsgrad else groups

    def update_step(self, gradient, variable, learning_rate):
        slots = self._slots[variable._uid]
        v_hat = slots["velocity_hat"].data if self.amsgrad else None
        get_backend().adam_update(variable.data, gradient.data, slots["momentum"].data,
                                  slots["velocity"].data, learning_rate, self.beta_1,
                                  self.beta_2, self.epsilon, self._step + 1, v_hat=v_hat,
                                  weight_decay=self._weight_decay_for(variable))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (`weight_decay` defaults to 0.004)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, name=name,
                         weight_decay=weight_decay, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients."""

    _fuses_weight_decay = True

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def _slot_groups(self):
        groups = [("velocity",)]
        if self.momentum > 0:
            groups.append(("momentum",))
        if self.centered:
            groups.append(("average_gradient",))
        return groups

    def update_step(self, gradient, variable, learning_rate):
        slots = self._slots[variable._uid]
        average_gradient = slots["average_gradient"].data if self.centered else None
        momentum_buffer = slots["momentum"].data if self.momentum > 0 else None
        get_backend().rmsprop_update(variable.data, gradient.data, slots["velocity"].data,
                                     average_gradient, momentum_buffer, learning_rate,
                                     self.rho, self.momentum, self.epsilon,
                                     weight_decay=self._weight_decay_for(variable))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Per-parameter learning rates scaled by the accumulated squared gradients."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _slot_groups(self):
        return [("accumulator",)]

    def _slot_initializer(self, slot_name):
        return self.initial_accumulator_value

    def update_step(self, gradient, variable, learning_rate):
        accumulator = self._get_slot(variable, "accumulator")
        accumulator.assign(accumulator + ops.square(gradient))
        variable.assign(variable - (learning_rate * gradient)
                        / ops.sqrt(accumulator + self.epsilon))

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta: step sizes from running averages of squared gradients and updates."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def _slot_groups(self):
        return [("accumulated_grad", "accumulated_delta_var")]

    def update_step(self, gradient, variable, learning_rate):
        rho = self.rho
        accumulated_grad = self._get_slot(variable, "accumulated_grad")
        accumulated_delta_var = self._get_slot(variable, "accumulated_delta_var")

        def rms(x):
            return ops.sqrt(x + self.epsilon)

        accumulated_grad.assign(rho * accumulated_grad + (1 - rho) * ops.square(gradient))
        delta_var = -(rms(accumulated_delta_var) * gradient) / rms(accumulated_grad)
        accumulated_delta_var.assign(rho * accumulated_delta_var
                                     + (1 - rho) * ops.square(delta_var))
        variable.assign(variable + learning_rate * delta_var)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adam with the infinity norm in place of the second moment."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _slot_groups(self):
        return [("momentum", "norm")]

    def update_step(self, gradient, variable, learning_rate):
        beta_1_power = float(_f32(self.beta_1) ** _f32(self._step + 1))
        m = self._get_slot(variable, "momentum")
        u = self._get_slot(variable, "norm")
        m.assign(m + (gradient - m) * (1 - self.beta_1))
        u.assign(ops.maximum(self.beta_2 * u, ops.abs(gradient)))
        variable.assign(variable - (learning_rate * m)
                        / ((1 - beta_1_power) * (u + self.epsilon)))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Keras 3's momentum-schedule form)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self._u_product = _f32(1.0)

    def _slot_groups(self):
        return [("momentum", "velocity")]

    def _update_all(self, grads, variables, learning_rate):
        # The momentum-schedule product advances once per step, before the variable updates.
        t = _f32(self._step + 1)
        self._u_product = _f32(self._u_product * _f32(self.beta_1)
                               * (_f32(1.0) - _f32(0.5) * _f32(0.96) ** t))
        super()._update_all(grads, variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        beta_1, beta_2 = _f32(self.beta_1), _f32(self.beta_2)
        local_step, next_step = _f32(self._step + 1), _f32(self._step + 2)
        u_t = beta_1 * (_f32(1.0) - _f32(0.5) * _f32(0.96) ** local_step)
        u_t_1 = beta_1 * (_f32(1.0) - _f32(0.5) * _f32(0.96) ** next_step)
        u_product_t = self._u_product
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = beta_2 ** local_step
        m = self._get_slot(variable, "momentum")
        v = self._get_slot(variable, "velocity")
        m.assign(m + (gradient - m) * (1 - self.beta_1))
        v.assign(v + (ops.square(gradient) - v) * (1 - self.beta_2))
        m_hat = (float(u_t_1) * m) / float(_f32(1) - u_product_t_1) + (
            float(_f32(1) - u_t) * gradient) / float(_f32(1) - u_product_t)
        v_hat = v / float(_f32(1) - beta_2_power)
        variable.assign(variable - (m_hat * learning_rate) / (ops.sqrt(v_hat) + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
