"""The WebGPU backend's fused optimizer updates: one kernel (kernels/optimizer.wgsl) per
variable and step, updating the variable and its slots in one dispatch.

Each body follows `Backend`'s formulas (Keras 3's) operation for operation, element i. Its
scalars (learning rate, Adam's bias-corrected step size, ...) go in the uniform, so a learning
rate schedule or the step count changes bytes, never the pipeline: a traced step's live call
rewrites them at each replay (trainers/webgpu_plan.py).
"""

import functools

from webkeras.backend.base import adam_step_size

# Keras 3's decoupled weight decay, before the update: w -= w * weight_decay * lr.
_LOAD = "var w = variable[i];\n"
_DECAY = "w = w - w * params.weight_decay * params.lr;\n"

_SGD = {
    "plain": "variable[i] = w - grad[i] * params.lr;\n",
    "momentum": """let step = grad[i] * params.lr;
let vel = velocity[i] * params.momentum - step;
velocity[i] = vel;
""",
}
_ADAM = """let g = grad[i];
let m1 = m[i] + (g - m[i]) * params.one_minus_beta_1;
let v1 = v[i] + (g * g - v[i]) * params.one_minus_beta_2;
m[i] = m1;
v[i] = v1;
"""
_RMSPROP = """let g = grad[i];
let vel = params.rho * velocity[i] + params.one_minus_rho * (g * g);
velocity[i] = vel;
"""
_RMSPROP_CENTERED = """let avg = params.rho * average_gradient[i] + params.one_minus_rho * g;
average_gradient[i] = avg;
let denominator = vel - avg * avg + params.epsilon;
"""


@functools.cache
def update_kernel(rule, decay, *options):
    """(binding names, body) of the update `rule` ("sgd", "adam", "rmsprop"); `options` are
    the rule's slot-dependent variants (sgd: "momentum" / "nesterov"; adam: "amsgrad";
    rmsprop: "centered", "momentum")."""
    body = _LOAD + (_DECAY if decay else "")
    if rule == "sgd":
        if not options:
            return ("variable", "grad"), body + _SGD["plain"]
        update = "vel * params.momentum - step" if "nesterov" in options else "vel"
        return (("variable", "grad", "velocity"),
                body + _SGD["momentum"] + f"variable[i] = w + ({update});\n")
    if rule == "adam":
        buffers, body = ("variable", "grad", "m", "v"), body + _ADAM
        second = "v1"
        if "amsgrad" in options:
            buffers += ("v_hat",)
            body += "let vh = max(v_hat[i], v1);\nv_hat[i] = vh;\n"
            second = "vh"
        return buffers, body + (
            f"variable[i] = w - (m1 * params.alpha) / (sqrt({second}) + params.epsilon);\n")
    buffers, body = ("variable", "grad", "velocity"), body + _RMSPROP
    if "centered" in options:
        buffers += ("average_gradient",)
        body += _RMSPROP_CENTERED
    else:
        body += "let denominator = vel + params.epsilon;\n"
    body += "var increment = (params.lr * g) / sqrt(denominator);\n"
    if "momentum" in options:
        buffers += ("momentum_buffer",)
        body += ("increment = params.momentum * momentum_buffer[i] + increment;\n"
                 "momentum_buffer[i] = increment;\n")
    return buffers, body + "variable[i] = w - increment;\n"


class OptimizerUpdates:
    """Mixin for WebGPUBackend: sgd_update, adam_update, rmsprop_update (see `Backend`)."""

    def _run_update(self, kernel, arrays, **values):
        n = arrays[0].size
        if n:
            buffers, body = kernel
            wg = self.limits.workgroup
            self.run_kernel("optimizer", dict(buffers=buffers, body=body, workgroup=wg),
                            dict(values, n=n), arrays, self.grid(-(-n // wg)))

    def sgd_update(self, var, grad, velocity, learning_rate, momentum, nesterov,
                   weight_decay=0.0):
        options = () if velocity is None else ("nesterov",) if nesterov else ("momentum",)
        arrays = [var, grad] + ([] if velocity is None else [velocity])
        self._run_update(update_kernel("sgd", bool(weight_decay), *options), arrays,
                         lr=float(learning_rate), momentum=float(momentum),
                         weight_decay=float(weight_decay))

    def adam_update(self, var, grad, m, v, learning_rate, beta_1, beta_2, epsilon, step,
                    v_hat=None, weight_decay=0.0):
        options = () if v_hat is None else ("amsgrad",)
        arrays = [var, grad, m, v] + ([] if v_hat is None else [v_hat])
        self._run_update(update_kernel("adam", bool(weight_decay), *options), arrays,
                         lr=float(learning_rate),
                         alpha=adam_step_size(learning_rate, beta_1, beta_2, step),
                         one_minus_beta_1=float(1 - beta_1),
                         one_minus_beta_2=float(1 - beta_2), epsilon=float(epsilon),
                         weight_decay=float(weight_decay))

    def rmsprop_update(self, var, grad, velocity, average_gradient, momentum_buffer,
                       learning_rate, rho, momentum, epsilon, weight_decay=0.0):
        slots = [("centered", average_gradient), ("momentum", momentum_buffer)]
        options = tuple(name for name, slot in slots if slot is not None)
        arrays = [var, grad, velocity] + [slot for _, slot in slots if slot is not None]
        self._run_update(update_kernel("rmsprop", bool(weight_decay), *options), arrays,
                         lr=float(learning_rate), rho=float(rho),
                         one_minus_rho=float(1 - rho), momentum=float(momentum),
                         epsilon=float(epsilon), weight_decay=float(weight_decay))
