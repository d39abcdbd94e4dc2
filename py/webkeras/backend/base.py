"""The primitive interface every backend implements.

A backend works on its own raw arrays (``numpy.ndarray`` for the NumPy backend, ``GPUArray`` for
the WebGPU backend). `webkeras.ops` validates arguments, infers shapes and records gradients; the
backend only computes. Every method here is a primitive: the set is small and closed, and
everything else in `webkeras.ops` is composed from it.

Dtypes are strings: "float32", "float64" (NumPy backend only, for gradient checks), "int32",
"bool". Shapes are tuples of ints. Axes passed to a backend are already normalised
(non-negative, sorted tuples).
"""

import numpy as np

UNARY_OPS = (
    "neg", "exp", "log", "sqrt", "abs", "sign", "square", "reciprocal",
    "relu", "sigmoid", "tanh",
)
# Rounding and the transcendental functions `keras.ops` composes the rest of its math from
# (tan, arccos, sinh, arctanh, ...). Float only: ops casts integer inputs to float32 first.
MATH_UNARY_OPS = (
    "floor", "ceil", "round", "sin", "cos", "arcsin", "arctan", "log1p", "expm1",
)
# Arithmetic binaries keep the (common) input dtype; comparisons return "bool".
ARITHMETIC_OPS = ("add", "sub", "mul", "div", "maximum", "minimum", "pow")
COMPARISON_OPS = ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal")
BINARY_OPS = ARITHMETIC_OPS + COMPARISON_OPS
REDUCE_OPS = ("sum", "mean", "max", "min")
# The cells `rnn_scan` runs a whole sequence of (Keras's cells with their default activations:
# tanh, and sigmoid gates). "gru" applies the reset gate after the recurrent product (Keras 3's
# reset_after=True); "gru_reset_before" before it (reset_after=False).
RECURRENT_CELLS = ("simple_rnn", "lstm", "gru", "gru_reset_before")


class Backend:
    """Abstract primitive set. Subclasses: NumpyBackend, WebGPUBackend."""

    name = None

    # -- conversion --------------------------------------------------------------------------
    def from_numpy(self, array):
        """Host ndarray -> raw array (uploads for device backends)."""
        raise NotImplementedError

    def to_numpy(self, x):
        """Raw array -> host ndarray (the only readback point)."""
        raise NotImplementedError

    def to_numpy_many(self, xs):
        """Raw arrays -> host ndarrays, in order; a device backend reads them back together
        (one wait for a train step's loss and metrics instead of one each)."""
        return [self.to_numpy(x) for x in xs]

    def shape(self, x):
        raise NotImplementedError

    def dtype(self, x):
        raise NotImplementedError

    def full(self, shape, value, dtype):
        raise NotImplementedError

    # -- element-wise ------------------------------------------------------------------------
    def unary(self, op, x):
        """One of UNARY_OPS or MATH_UNARY_OPS applied element-wise ("round": half to even)."""
        raise NotImplementedError

    def binary(self, op, a, b):
        """One of BINARY_OPS with NumPy broadcasting; a and b share a dtype."""
        raise NotImplementedError

    def where(self, condition, a, b):
        """Element-wise select with broadcasting; condition is "bool"."""
        raise NotImplementedError

    def clip(self, x, low, high):
        raise NotImplementedError

    def isnan(self, x):
        """Element-wise NaN test of a float array, as "bool"."""
        raise NotImplementedError

    def isinf(self, x):
        """Element-wise test for +-inf of a float array, as "bool"."""
        raise NotImplementedError

    def cast(self, x, dtype):
        raise NotImplementedError

    # -- reductions --------------------------------------------------------------------------
    def reduce(self, op, x, axis, keepdims):
        """One of REDUCE_OPS over the axes in `axis` (a sorted tuple)."""
        raise NotImplementedError

    def argmax(self, x, axis):
        """Index of the maximum along one axis, as "int32"."""
        raise NotImplementedError

    def argsort(self, x, axis, descending):
        """Indices ("int32") that sort `x` along one axis; stable, so equal values keep their
        order (descending too: the lower index first, as `top_k` returns them)."""
        raise NotImplementedError

    # -- linear algebra / shape --------------------------------------------------------------
    def matmul(self, a, b, transpose_a=False, transpose_b=False):
        """[..., m, k] @ [..., k, n] with batch broadcasting; both rank >= 2.

        transpose_a / transpose_b swap the last two axes of that operand first (backends read
        it transposed rather than copying it: the matmul VJP needs g @ b^T and a^T @ g).
        """
        raise NotImplementedError

    def reshape(self, x, shape):
        raise NotImplementedError

    def transpose(self, x, perm):
        raise NotImplementedError

    def broadcast_to(self, x, shape):
        raise NotImplementedError

    # -- fused -------------------------------------------------------------------------------
    def softmax(self, x):
        """Softmax over the last axis."""
        raise NotImplementedError

    def log_softmax(self, x):
        """Log-softmax over the last axis."""
        raise NotImplementedError

    def one_hot(self, indices, depth, dtype):
        """int32 indices [...] -> [..., depth]; out-of-range indices give all zeros."""
        raise NotImplementedError

    # -- variables and optimizer updates (in place) ------------------------------------------
    def assign(self, target, value):
        """Copy `value` into the raw array `target` in place."""
        raise NotImplementedError

    # Each update is one primitive (one kernel on a device, one pass with out= on the host),
    # replayed by a traced step as one call; the defaults compose it from the primitives above.
    # `weight_decay` (0: none) is Keras 3's decoupled decay, applied first:
    # var -= var * weight_decay * learning_rate. Float scalars are cast to var's dtype.
    def sgd_update(self, var, grad, velocity, learning_rate, momentum, nesterov,
                   weight_decay=0.0):
        """In place. velocity is None when momentum == 0.

        Keras 3: v = momentum * v - lr * g; var += v  (nesterov: var += momentum * v - lr * g);
        without momentum: var -= lr * g.
        """
        scalar = _Scalars(self, var)
        lr = scalar(learning_rate)
        _decay(self, var, lr, scalar, weight_decay)
        step = self.binary("mul", grad, lr)
        if velocity is None:
            self.assign(var, self.binary("sub", var, step))
            return
        self.assign(velocity, self.binary("sub", self.binary("mul", velocity, scalar(momentum)),
                                          step))
        if nesterov:
            self.assign(var, self.binary("add", var, self.binary(
                "sub", self.binary("mul", velocity, scalar(momentum)), step)))
        else:
            self.assign(var, self.binary("add", var, velocity))

    def adam_update(self, var, grad, m, v, learning_rate, beta_1, beta_2, epsilon, step,
                    v_hat=None, weight_decay=0.0):
        """In place, Keras 3's Adam (step counts from 1; `v_hat` given: amsgrad):

        alpha = adam_step_size(lr, beta_1, beta_2, step)
        m += (g - m) * (1 - beta_1); v += (g*g - v) * (1 - beta_2)
        amsgrad: v_hat = maximum(v_hat, v), used for v below
        var -= (m * alpha) / (sqrt(v) + epsilon)
        """
        scalar = _Scalars(self, var)
        _decay(self, var, scalar(learning_rate), scalar, weight_decay)
        alpha = adam_step_size(learning_rate, beta_1, beta_2, step, self.dtype(var))
        self.assign(m, self.binary("add", m, self.binary(
            "mul", self.binary("sub", grad, m), scalar(1 - beta_1))))
        self.assign(v, self.binary("add", v, self.binary(
            "mul", self.binary("sub", self.unary("square", grad), v), scalar(1 - beta_2))))
        if v_hat is not None:
            self.assign(v_hat, self.binary("maximum", v_hat, v))
            v = v_hat
        denominator = self.binary("add", self.unary("sqrt", v), scalar(epsilon))
        self.assign(var, self.binary("sub", var, self.binary(
            "div", self.binary("mul", m, scalar(alpha)), denominator)))

    def rmsprop_update(self, var, grad, velocity, average_gradient, momentum_buffer,
                       learning_rate, rho, momentum, epsilon, weight_decay=0.0):
        """In place, Keras 3's RMSprop. average_gradient is None unless centered,
        momentum_buffer None unless momentum > 0:

        velocity = rho * velocity + (1 - rho) * g*g
        centered: average_gradient = rho * average_gradient + (1 - rho) * g,
                  denominator = velocity - average_gradient**2 + epsilon
        else denominator = velocity + epsilon
        increment = (lr * g) / sqrt(denominator)
        momentum: momentum_buffer = momentum * momentum_buffer + increment; var -= it
        else var -= increment
        """
        scalar = _Scalars(self, var)
        lr = scalar(learning_rate)
        _decay(self, var, lr, scalar, weight_decay)
        rho_, rest = scalar(rho), scalar(1 - rho)
        self.assign(velocity, self.binary("add", self.binary("mul", rho_, velocity),
                                          self.binary("mul", rest, self.unary("square", grad))))
        if average_gradient is not None:
            self.assign(average_gradient, self.binary(
                "add", self.binary("mul", rho_, average_gradient), self.binary("mul", rest, grad)))
            denominator = self.binary("add", self.binary(
                "sub", velocity, self.unary("square", average_gradient)), scalar(epsilon))
        else:
            denominator = self.binary("add", velocity, scalar(epsilon))
        increment = self.binary("div", self.binary("mul", lr, grad),
                                self.unary("sqrt", denominator))
        if momentum_buffer is not None:
            self.assign(momentum_buffer, self.binary(
                "add", self.binary("mul", scalar(momentum), momentum_buffer), increment))
            increment = momentum_buffer
        self.assign(var, self.binary("sub", var, increment))

    # -- indexing and joining (layers: slicing, padding, concatenation, gathers) ---------------
    def strided_slice(self, x, slices):
        """`x[slices]`: one normalised `slice(start, stop, step)` per axis (steps may be < 0)."""
        raise NotImplementedError

    def slice_scatter(self, values, shape, slices):
        """Zeros of `shape` with `values` written at `slices` (the VJP of strided_slice)."""
        raise NotImplementedError

    def concatenate(self, arrays, axis):
        """Join arrays of one dtype along an existing axis."""
        raise NotImplementedError

    def take(self, x, indices, axis):
        """Gather along `axis` with int32 `indices` (any shape), as `numpy.take`."""
        raise NotImplementedError

    def scatter_add(self, indices, updates, shape, axis):
        """Zeros of `shape`, then `updates` summed in at `indices` along `axis` (VJP of take)."""
        raise NotImplementedError

    def erf(self, x):
        """The error function, element-wise (for exact GELU)."""
        raise NotImplementedError

    # -- convolution and pooling (channels_last, spatial padding already applied) -------------
    def conv(self, x, kernel, strides, dilation, groups):
        """N-D cross-correlation (as Keras's `conv`) of an already padded input.

        x: (batch, *spatial, channels); kernel: (*kernel_size, channels // groups, filters);
        strides, dilation: one int per spatial axis. Output (batch, *out, filters) with
        out = (spatial - ((kernel_size - 1) * dilation + 1)) // strides + 1. With groups > 1
        input channel group i feeds filters [i * filters // groups, (i + 1) * filters // groups).
        """
        raise NotImplementedError

    def conv_input_grad(self, grad, kernel, input_shape, strides, dilation, groups):
        """VJP of `conv` with respect to x: the transposed convolution of `grad` (batch,
        *out, filters) by `kernel`, written into zeros of `input_shape` (positions no window
        touches stay zero). Also serves `conv_transpose` as its forward."""
        raise NotImplementedError

    def conv_kernel_grad(self, x, grad, kernel_shape, strides, dilation, groups):
        """VJP of `conv` with respect to the kernel: the correlation of x with `grad`."""
        raise NotImplementedError

    def pool(self, x, mode, pool_size, strides, pads):
        """Max ("max") or average ("avg") pooling of channels-last x.

        pads: one (before, after) pair per spatial axis. Padded entries never win a max and
        are not counted in an average (Keras's 'same' pooling).
        """
        raise NotImplementedError

    def pool_grad(self, x, y, grad, mode, pool_size, strides, pads):
        """VJP of `pool`: `grad` (shaped like y = pool(x, ...)) routed back onto x's shape.

        Max: each window's gradient goes to its maximum; ties in a window share it equally
        (as the `max` reduction's VJP does). Average: spread over the window's counted entries.
        """
        raise NotImplementedError

    # -- recurrence ---------------------------------------------------------------------------
    def rnn_scan(self, cell, inputs, states, recurrent_kernel, recurrent_bias, mask,
                 recurrent_dropout, go_backwards, zero_output_for_mask):
        """A whole sequence of one of RECURRENT_CELLS -> (packed, residuals).

        inputs: (batch, steps, gates * units), the input projection x W + b already added;
        states: the initial states, (batch, units) each (h; LSTM: h, c); recurrent_kernel
        (units, gates * units); recurrent_bias: "gru" only (else None), (gates * units,);
        mask: None or "bool" (batch, steps), a step it clears keeps the states and repeats the
        previous output (zeros with `zero_output_for_mask`; the output before the first step
        is zeros); recurrent_dropout: None or (batch, units), multiplies h before the
        recurrent product (not where h is carried). go_backwards walks the steps from the last.

        packed: (batch, steps + len(states), units), the outputs in the order the steps ran,
        then the final states. residuals: whatever `rnn_scan_grad` needs, opaque to ops.
        """
        raise NotImplementedError

    def rnn_scan_grad(self, residuals, grad, needs):
        """VJP of `rnn_scan`: `grad` is packed's gradient; `needs` four bools (inputs, states,
        recurrent_kernel, recurrent_bias). -> (d_inputs, [d_state, ...], d_recurrent_kernel,
        d_recurrent_bias), None where not needed (or no bias)."""
        raise NotImplementedError

    # -- synchronisation ---------------------------------------------------------------------
    def flush(self):
        """Submit queued device work (no-op on the host)."""


def adam_step_size(learning_rate, beta_1, beta_2, step, dtype="float32"):
    """Adam's bias-corrected step size, as Keras 3 computes it (in the variable's dtype):
    lr * sqrt(1 - beta_2**step) / (1 - beta_1**step)."""
    cast = np.dtype(dtype).type
    one = cast(1)
    return float(cast(learning_rate) * np.sqrt(one - cast(beta_2) ** cast(step))
                 / (one - cast(beta_1) ** cast(step)))


def _decay(backend, var, lr, scalar, weight_decay):
    """Keras 3's decoupled weight decay, composed: var -= var * weight_decay * lr."""
    if weight_decay:
        backend.assign(var, backend.binary("sub", var, backend.binary(
            "mul", backend.binary("mul", var, scalar(weight_decay)), lr)))


class _Scalars:
    """Python numbers as 0-d raw arrays of `like`'s dtype, for the composed updates."""

    def __init__(self, backend, like):
        self.backend, self.dtype = backend, backend.dtype(like)

    def __call__(self, value):
        return self.backend.full((), value, self.dtype)
