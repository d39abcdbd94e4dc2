"""The fused recurrence, written once for every backend: a whole sequence of an LSTM / GRU /
SimpleRNN cell, forward and backward, as `Backend.rnn_scan` / `rnn_scan_grad` define them.

One Python loop over the time steps makes a handful of array calls per step, against a dozen
recorded ops per step (and as many VJPs) on the layers' per-step path. The arrays stay on the
backend (a WebGPU step reads nothing back); every product is the backend's `matmul` (its WASM
SIMD kernels in the tab). The formulas are the cells' own, so both paths agree up to rounding.

`Arrays` is the handful of array calls the loop needs, made of a backend's primitives; the
NumPy backend overrides them with plain NumPy (views, no copies).
"""

import contextlib


class Arrays:
    """The loop's array calls on a backend's own primitives.

    `out`: an array the caller no longer needs, which may take the result (NumPy writes it
    there, in place, and returns it; other backends ignore it): always use what is returned."""

    def __init__(self, backend):
        self.backend = backend
        self._ones = {}
        self._rows = {}

    def loop(self):
        """Wraps a loop over the steps (NumPy: its small products on one BLAS thread)."""
        return contextlib.nullcontext()

    def matmul(self, a, b, transpose_a=False, transpose_b=False):
        return self.backend.matmul(a, b, transpose_a, transpose_b)

    def add(self, a, b, out=None):
        return self.backend.binary("add", a, b)

    def sub(self, a, b):
        return self.backend.binary("sub", a, b)

    def mul(self, a, b, out=None):
        return self.backend.binary("mul", a, b)

    def one_minus(self, x, out=None):
        dtype = self.backend.dtype(x)
        if dtype not in self._ones:
            self._ones[dtype] = self.backend.full((1, 1), 1.0, dtype)
        return self.backend.binary("sub", self._ones[dtype], x)

    def tanh(self, x, out=None):
        return self.backend.unary("tanh", x)

    def sigmoid(self, x):
        return self.backend.unary("sigmoid", x)

    def where(self, condition, a, b):
        return self.backend.where(condition, a, b)

    def zeros(self, shape, dtype):
        return self.backend.full(shape, 0.0, dtype)

    def constant(self, batch, blocks, dtype):
        """A (batch, width) constant made of (width, value) column blocks, made once (full
        rows, not one broadcast: NumPy's broadcast arithmetic is ~1.6x slower)."""
        key = (batch, blocks, dtype)
        if key not in self._rows:
            self._rows[key] = self.backend.concatenate(
                [self.backend.full((batch, n), value, dtype) for n, value in blocks], 1)
        return self._rows[key]

    def transpose(self, x):
        return self.backend.transpose(x, (1, 0))

    def columns(self, x, start, stop):
        """x[:, start:stop] of a matrix."""
        rows = self.backend.shape(x)[0]
        return self.backend.strided_slice(x, [slice(0, rows, 1), slice(start, stop, 1)])

    def step(self, x, t, keep_axis=False):
        """x[:, t] of a (batch, steps, ...) array; (batch, 1) when keep_axis (masks)."""
        shape = self.backend.shape(x)
        out = self.backend.strided_slice(
            x, [slice(0, shape[0], 1), slice(t, t + 1, 1)] + [slice(0, n, 1) for n in shape[2:]])
        return out if keep_axis else self.backend.reshape(out, shape[:1] + shape[2:])

    def concatenate(self, arrays, axis):
        return self.backend.concatenate(list(arrays), axis)

    def rows(self, x):
        """(batch, steps, width) -> (batch * steps, width)."""
        shape = self.backend.shape(x)
        return self.backend.reshape(x, (shape[0] * shape[1], shape[2]))

    def stack_steps(self, arrays):
        """(batch, width) arrays -> (batch, len(arrays), width)."""
        return self.backend.concatenate(
            [self.backend.reshape(a, (self.backend.shape(a)[0], 1, self.backend.shape(a)[1]))
             for a in arrays], 1)

    def sum_rows(self, x):
        return self.backend.reduce("sum", x, (0,), False)

    def shape(self, x):
        return self.backend.shape(x)

    def dtype(self, x):
        return self.backend.dtype(x)


class _SimpleRNN:
    """h = tanh(x + hd U)."""

    def kernel(self, xp, recurrent_kernel):
        return recurrent_kernel

    def transposed(self, xp, kernel):
        """The kernel as the backward's products take it: transposed once, not per step."""
        return xp.transpose(kernel)

    def forward(self, xp, x, states, hd, kernel, bias):
        h = xp.tanh(xp.add(x, xp.matmul(hd, kernel)))
        return [h], h

    def backward(self, xp, d_new, states, hd, h, kernel_t):
        d_pre = xp.mul(d_new[0], xp.one_minus(xp.mul(h, h)))
        return d_pre, [None], xp.matmul(d_pre, kernel_t), [(hd, None)]


class _LSTM(_SimpleRNN):
    """Gates i, f, c, o (Keras's order); x holds the input projection and the bias.

    The four activations are one pass over the (batch, 4 units) gates: tanh(z * scale) *
    scale + shift is sigmoid(z) = (tanh(z / 2) + 1) / 2 (the backends' formula, the same bits)
    on i, f, o, tanh(z) on c; the backward step works on whole gate rows the same way."""

    def forward(self, xp, x, states, hd, kernel, bias):
        batch, u = xp.shape(hd)
        dtype = xp.dtype(x)
        scale = xp.constant(batch, ((2 * u, 0.5), (u, 1.0), (u, 0.5)), dtype)
        z = xp.matmul(hd, kernel)
        z = xp.tanh(xp.mul(xp.add(z, x, out=z), scale, out=z), out=z)
        gates = xp.add(xp.mul(z, scale, out=z),
                       xp.constant(batch, ((2 * u, 0.5), (u, 0.0), (u, 0.5)), dtype), out=z)
        i, f = xp.columns(gates, 0, u), xp.columns(gates, u, 2 * u)
        g, o = xp.columns(gates, 2 * u, 3 * u), xp.columns(gates, 3 * u, 4 * u)
        c = xp.mul(f, states[1])
        c = xp.add(c, xp.mul(i, g), out=c)
        tanh_c = xp.tanh(c)
        return [xp.mul(o, tanh_c), c], (gates, tanh_c)

    def backward(self, xp, d_new, states, hd, cache, kernel_t):
        gates, tanh_c = cache
        batch, u = xp.shape(tanh_c)
        i, f = xp.columns(gates, 0, u), xp.columns(gates, u, 2 * u)
        g, o = xp.columns(gates, 2 * u, 3 * u), xp.columns(gates, 3 * u, 4 * u)
        dh = d_new[0]
        # d gates / dz: sigmoid's s (1 - s) on i, f, o; tanh's (1 - g) (1 + g) on c.
        d_gates = xp.add(gates, xp.constant(batch, ((2 * u, 0.0), (u, 1.0), (u, 0.0)),
                                            xp.dtype(gates)))
        d_gates = xp.mul(d_gates, xp.one_minus(gates), out=d_gates)
        dc = xp.mul(tanh_c, tanh_c)
        dc = xp.mul(xp.mul(xp.one_minus(dc, out=dc), o, out=dc), dh, out=dc)
        dc = xp.add(dc, d_new[1], out=dc)
        # dz = [dc, dc, dc, dh] * [g, c_prev, i, tanh(c)] * d gates / dz, as whole rows.
        d_pre = xp.concatenate([dc, dc, dc, dh], 1)
        d_pre = xp.mul(d_pre, xp.concatenate([g, states[1], i, tanh_c], 1), out=d_pre)
        d_pre = xp.mul(d_pre, d_gates, out=d_pre)
        return d_pre, [None, xp.mul(dc, f)], xp.matmul(d_pre, kernel_t), [(hd, None)]


def _update(xp, dh, states, z, hh):
    """GRU's h = z h_prev + (1 - z) hh, and its gradients by z (pre-sigmoid) and by hh's
    pre-activation."""
    dz = xp.mul(xp.mul(dh, xp.sub(states[0], hh)), xp.mul(z, xp.one_minus(z)))
    da = xp.mul(xp.mul(dh, xp.one_minus(z)), xp.one_minus(xp.mul(hh, hh)))
    return dz, da


class _GRU(_SimpleRNN):
    """Gates z, r, h (Keras's order), the reset gate after the recurrent product (Keras 3's
    default): hh = tanh(x_h + r * (hd U_h + b_h)), h = z h_prev + (1 - z) hh."""

    def forward(self, xp, x, states, hd, kernel, bias):
        u = xp.shape(kernel)[0]
        inner = xp.matmul(hd, kernel)
        if bias is not None:
            inner = xp.add(inner, bias)
        zr = xp.sigmoid(xp.add(xp.columns(x, 0, 2 * u), xp.columns(inner, 0, 2 * u)))
        z, r = xp.columns(zr, 0, u), xp.columns(zr, u, 2 * u)
        inner_h = xp.columns(inner, 2 * u, 3 * u)
        hh = xp.tanh(xp.add(xp.columns(x, 2 * u, 3 * u), xp.mul(r, inner_h)))
        h = xp.add(xp.mul(z, states[0]), xp.mul(xp.one_minus(z), hh))
        return [h], (z, r, inner_h, hh)

    def backward(self, xp, d_new, states, hd, cache, kernel_t):
        z, r, inner_h, hh = cache
        dz, da = _update(xp, d_new[0], states, z, hh)
        dr = xp.mul(xp.mul(da, inner_h), xp.mul(r, xp.one_minus(r)))
        d_x = xp.concatenate([dz, dr, da], 1)
        d_inner = xp.concatenate([dz, dr, xp.mul(da, r)], 1)
        return (d_x, [xp.mul(d_new[0], z)], xp.matmul(d_inner, kernel_t), [(hd, d_inner)])


class _GRUResetBefore:
    """GRU with reset_after=False: hh = tanh(x_h + (r * hd) U_h), one bias (in x)."""

    def kernel(self, xp, recurrent_kernel):
        u = xp.shape(recurrent_kernel)[0]
        return xp.columns(recurrent_kernel, 0, 2 * u), xp.columns(recurrent_kernel, 2 * u, 3 * u)

    def transposed(self, xp, kernel):
        return tuple(xp.transpose(k) for k in kernel)

    def forward(self, xp, x, states, hd, kernel, bias):
        kernel_zr, kernel_h = kernel
        u = xp.shape(kernel_h)[0]
        zr = xp.sigmoid(xp.add(xp.columns(x, 0, 2 * u), xp.matmul(hd, kernel_zr)))
        z, r = xp.columns(zr, 0, u), xp.columns(zr, u, 2 * u)
        reset_h = xp.mul(r, hd)
        hh = xp.tanh(xp.add(xp.columns(x, 2 * u, 3 * u), xp.matmul(reset_h, kernel_h)))
        h = xp.add(xp.mul(z, states[0]), xp.mul(xp.one_minus(z), hh))
        return [h], (z, r, reset_h, hh)

    def backward(self, xp, d_new, states, hd, cache, kernel_t):
        z, r, reset_h, hh = cache
        kernel_zr_t, kernel_h_t = kernel_t
        dz, da = _update(xp, d_new[0], states, z, hh)
        d_reset_h = xp.matmul(da, kernel_h_t)
        d_zr = xp.concatenate([dz, xp.mul(xp.mul(d_reset_h, hd), xp.mul(r, xp.one_minus(r)))],
                              1)
        dhd = xp.add(xp.mul(d_reset_h, r), xp.matmul(d_zr, kernel_zr_t))
        return (xp.concatenate([d_zr, da], 1), [xp.mul(d_new[0], z)], dhd,
                [(hd, d_zr), (reset_h, da)])


CELLS = {"simple_rnn": _SimpleRNN(), "lstm": _LSTM(), "gru": _GRU(),
         "gru_reset_before": _GRUResetBefore()}


class Residuals:
    """What the backward pass needs from the forward one (opaque to ops)."""

    __slots__ = ("cell", "order", "kernel", "has_bias", "mask", "dropout", "zero_output",
                 "records")


def rnn_scan(xp, cell, inputs, states, recurrent_kernel, recurrent_bias, mask,
             recurrent_dropout, go_backwards, zero_output_for_mask):
    """See `Backend.rnn_scan`: -> (packed outputs, Residuals). `xp`: an `Arrays`."""
    step = CELLS[cell]
    batch, steps = xp.shape(inputs)[:2]
    kernel = step.kernel(xp, recurrent_kernel)
    states = list(states)
    previous = None  # the output before the first step: zeros
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    records, outputs = [], []
    with xp.loop():
        for t in order:
            hd = states[0] if recurrent_dropout is None else xp.mul(states[0], recurrent_dropout)
            new_states, cache = step.forward(xp, xp.step(inputs, t), states, hd, kernel,
                                             recurrent_bias)
            output = new_states[0]
            if mask is not None:
                keep = xp.step(mask, t, keep_axis=True)
                new_states = [xp.where(keep, n, s) for n, s in zip(new_states, states)]
                if zero_output_for_mask or previous is None:
                    previous = xp.zeros(xp.shape(output), xp.dtype(output))
                output = xp.where(keep, output, previous)
            outputs.append(output)
            records.append((states, hd, cache))
            states, previous = new_states, output
    res = Residuals()
    res.cell, res.order, res.kernel = cell, order, kernel
    res.has_bias, res.mask, res.dropout = recurrent_bias is not None, mask, recurrent_dropout
    res.zero_output, res.records = zero_output_for_mask, records
    return xp.stack_steps(outputs + states), res


def rnn_scan_grad(xp, res, grad, needs):
    """See `Backend.rnn_scan_grad`: -> (d_inputs, [d_state...], d_kernel, d_bias)."""
    step, records = CELLS[res.cell], res.records
    steps = len(records)
    n_states = xp.shape(grad)[1] - steps
    d_states = [xp.step(grad, steps + i) for i in range(n_states)]
    d_by_time = [None] * steps
    carry = None  # a masked step's output gradient, passed on to the output before it
    # By step: the cell's (left, right) pairs, d_kernel = sum of left^T right; right None: d_x.
    terms = [None] * steps
    kernel_t = step.transposed(xp, res.kernel)
    with xp.loop():
        for k in range(steps - 1, -1, -1):
            t = res.order[k]
            states, hd, cache = records[k]
            d_out = xp.step(grad, k)
            if carry is not None:
                d_out = xp.add(d_out, carry)
            d_new = [xp.add(d_out, d_states[0])] + d_states[1:]
            passed = [None] * n_states
            if res.mask is not None:
                keep = xp.step(res.mask, t, keep_axis=True)
                zeros = xp.zeros(xp.shape(d_out), xp.dtype(d_out))
                passed = [xp.where(keep, zeros, d) for d in d_states]
                d_new = [xp.where(keep, d, zeros) for d in d_new]
                carry = None if res.zero_output else xp.where(keep, zeros, d_out)
            d_x, direct, dhd, step_terms = step.backward(xp, d_new, states, hd, cache, kernel_t)
            d_by_time[t] = d_x
            terms[t] = step_terms
            if res.dropout is not None:
                dhd = xp.mul(dhd, res.dropout)
            d_states = [_sum(xp, [direct[i], passed[i], dhd if i == 0 else None])
                        for i in range(n_states)]
            d_states = [d if d is not None else xp.zeros(xp.shape(d_out), xp.dtype(d_out))
                        for d in d_states]
    d_kernel = d_bias = None
    wants_kernel = needs[2] or (needs[3] and res.has_bias)
    d_inputs = xp.stack_steps(d_by_time) if needs[0] or wants_kernel else None
    if wants_kernel:
        # One product per kernel block over all the steps, not one per step; both sides
        # (batch * steps, width) with the same row order, d_x's stacking reused.
        blocks = [(xp.rows(xp.stack_steps([s[j][0] for s in terms])),
                   xp.rows(d_inputs) if terms[0][j][1] is None
                   else xp.rows(xp.stack_steps([s[j][1] for s in terms])))
                  for j in range(len(terms[0]))]
        if needs[2]:
            products = [xp.matmul(left, right, transpose_a=True) for left, right in blocks]
            d_kernel = products[0] if len(products) == 1 else xp.concatenate(products, 1)
        if needs[3] and res.has_bias:
            d_bias = xp.sum_rows(blocks[0][1])
    return (d_inputs if needs[0] else None), (d_states if needs[1] else None), d_kernel, d_bias


def _sum(xp, arrays):
    arrays = [a for a in arrays if a is not None]
    if not arrays:
        return None
    total = arrays[0]
    for a in arrays[1:]:
        total = xp.add(total, a)
    return total
