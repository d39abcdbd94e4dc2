"""The NumPy backend's fused recurrence: a whole sequence of an LSTM / GRU / SimpleRNN cell in
one primitive, forward and backward (see `Backend.rnn_scan`).

One Python loop over the time steps runs a handful of NumPy calls per step, against a dozen
recorded ops per step (and as many VJPs) on the per-step path. Every product goes through the
backend's `matmul` (its WASM SIMD kernels in the tab). The formulas are the cells' own, in the
same order, so both paths give the same numbers up to float rounding.
"""

import numpy as np


def _sigmoid(x):
    # The backend's own sigmoid formula (numpy/__init__.py), so both paths round alike.
    return 0.5 * (np.tanh(0.5 * x) + 1)


class _SimpleRNN:
    """h = tanh(x + hd U)."""

    def forward(self, matmul, x, states, hd, kernel, bias):
        h = np.tanh(x + matmul(hd, kernel))
        return [h], h

    def backward(self, matmul, d_new, states, hd, h, kernel):
        d_pre = d_new[0] * (1 - h * h)
        return d_pre, [None], matmul(d_pre, kernel, transpose_b=True), [(hd, d_pre)]


class _LSTM:
    """Gates i, f, c, o (Keras's order); x holds the input projection and the bias."""

    def forward(self, matmul, x, states, hd, kernel, bias):
        units = kernel.shape[0]
        z = x + matmul(hd, kernel)
        gates = np.empty_like(z)
        gates[:, :2 * units] = _sigmoid(z[:, :2 * units])
        gates[:, 2 * units:3 * units] = np.tanh(z[:, 2 * units:3 * units])
        gates[:, 3 * units:] = _sigmoid(z[:, 3 * units:])
        i, f, g, o = np.split(gates, 4, axis=1)
        c = f * states[1] + i * g
        tanh_c = np.tanh(c)
        return [o * tanh_c, c], (gates, tanh_c)

    def backward(self, matmul, d_new, states, hd, cache, kernel):
        gates, tanh_c = cache
        i, f, g, o = np.split(gates, 4, axis=1)
        dh = d_new[0]
        dc = dh * o * (1 - tanh_c * tanh_c)
        if d_new[1] is not None:
            dc += d_new[1]
        d_pre = np.concatenate([dc * g * i * (1 - i), dc * states[1] * f * (1 - f),
                                dc * i * (1 - g * g), dh * tanh_c * o * (1 - o)], axis=1)
        return d_pre, [None, dc * f], matmul(d_pre, kernel, transpose_b=True), [(hd, d_pre)]


class _GRU:
    """Gates z, r, h (Keras's order), reset applied after the recurrent product (Keras 3's
    default): hh = tanh(x_h + r * (hd U_h + b_h)), h = z h_prev + (1 - z) hh."""

    def forward(self, matmul, x, states, hd, kernel, bias):
        units = kernel.shape[0]
        inner = matmul(hd, kernel)
        if bias is not None:
            inner = inner + bias
        zr = _sigmoid(x[:, :2 * units] + inner[:, :2 * units])
        z, r = zr[:, :units], zr[:, units:]
        inner_h = inner[:, 2 * units:]
        hh = np.tanh(x[:, 2 * units:] + r * inner_h)
        return [z * states[0] + (1.0 - z) * hh], (zr, inner_h, hh)

    def backward(self, matmul, d_new, states, hd, cache, kernel):
        zr, inner_h, hh = cache
        units = kernel.shape[0]
        z, r = zr[:, :units], zr[:, units:]
        dh = d_new[0]
        dz = dh * (states[0] - hh) * z * (1 - z)
        da = dh * (1 - z) * (1 - hh * hh)
        dr = da * inner_h * r * (1 - r)
        d_x = np.concatenate([dz, dr, da], axis=1)
        d_inner = np.concatenate([dz, dr, da * r], axis=1)
        return (d_x, [dh * z], matmul(d_inner, kernel, transpose_b=True), [(hd, d_inner)])


class _GRUResetBefore:
    """GRU with reset_after=False: hh = tanh(x_h + (r * hd) U_h), one bias (in x)."""

    def forward(self, matmul, x, states, hd, kernel, bias):
        kernel_zr, kernel_h = kernel
        units = kernel_h.shape[0]
        zr = _sigmoid(x[:, :2 * units] + matmul(hd, kernel_zr))
        z, r = zr[:, :units], zr[:, units:]
        reset_h = r * hd
        hh = np.tanh(x[:, 2 * units:] + matmul(reset_h, kernel_h))
        return [z * states[0] + (1.0 - z) * hh], (zr, reset_h, hh)

    def backward(self, matmul, d_new, states, hd, cache, kernel):
        zr, reset_h, hh = cache
        kernel_zr, kernel_h = kernel
        units = kernel_h.shape[0]
        z, r = zr[:, :units], zr[:, units:]
        dh = d_new[0]
        dz = dh * (states[0] - hh) * z * (1 - z)
        da = dh * (1 - z) * (1 - hh * hh)
        d_reset_h = matmul(da, kernel_h, transpose_b=True)
        d_zr = np.concatenate([dz, d_reset_h * hd * r * (1 - r)], axis=1)
        dhd = d_reset_h * r + matmul(d_zr, kernel_zr, transpose_b=True)
        return (np.concatenate([d_zr, da], axis=1), [dh * z], dhd,
                [(hd, d_zr), (reset_h, da)])


CELLS = {"simple_rnn": _SimpleRNN(), "lstm": _LSTM(), "gru": _GRU(),
         "gru_reset_before": _GRUResetBefore()}


class Residuals:
    """What the backward pass needs from the forward one (opaque to ops)."""

    __slots__ = ("cell", "order", "steps", "kernel", "kernel_shape", "has_bias", "mask",
                 "dropout", "zero_output", "records", "dtype")


def rnn_scan(matmul, cell, inputs, states, recurrent_kernel, recurrent_bias, mask,
             recurrent_dropout, go_backwards, zero_output_for_mask):
    """See `Backend.rnn_scan`: -> (packed outputs, Residuals)."""
    step = CELLS[cell]
    batch, steps = inputs.shape[:2]
    units = recurrent_kernel.shape[0]
    kernel = recurrent_kernel
    if cell == "gru_reset_before":
        # Contiguous halves once per sequence (the tab's SIMD matmul reads contiguous rows).
        kernel = (np.ascontiguousarray(recurrent_kernel[:, :2 * units]),
                  np.ascontiguousarray(recurrent_kernel[:, 2 * units:]))
    states = list(states)
    packed = np.empty((batch, steps + len(states), units), dtype=inputs.dtype)
    previous = np.zeros((batch, units), dtype=inputs.dtype)
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    records = []
    for k, t in enumerate(order):
        hd = states[0] * recurrent_dropout if recurrent_dropout is not None else states[0]
        new_states, cache = step.forward(matmul, inputs[:, t], states, hd, kernel,
                                         recurrent_bias)
        output = new_states[0]
        if mask is not None:
            keep = mask[:, t, None]
            new_states = [np.where(keep, n, s) for n, s in zip(new_states, states)]
            output = np.where(keep, output, 0.0 if zero_output_for_mask else previous)
        packed[:, k] = output
        records.append((states, hd, cache))
        states, previous = new_states, output
    for i, state in enumerate(states):
        packed[:, steps + i] = state
    res = Residuals()
    res.cell, res.order, res.steps, res.kernel = cell, order, steps, kernel
    res.kernel_shape, res.has_bias = recurrent_kernel.shape, recurrent_bias is not None
    res.mask, res.dropout, res.zero_output = mask, recurrent_dropout, zero_output_for_mask
    res.records, res.dtype = records, inputs.dtype
    return packed, res


def rnn_scan_grad(matmul, res, grad, needs):
    """See `Backend.rnn_scan_grad`: -> (d_inputs, [d_state...], d_kernel, d_bias)."""
    step = CELLS[res.cell]
    steps, records = res.steps, res.records
    n_states = len(records[0][0]) if records else grad.shape[1] - steps
    batch, units = grad.shape[0], grad.shape[2]
    d_states = [np.array(grad[:, steps + i]) for i in range(n_states)]
    d_inputs = None
    carry = None  # the gradient of a masked step's output, passed on to the previous output
    terms = []
    for k in range(steps - 1, -1, -1):
        t = res.order[k]
        states, hd, cache = records[k]
        d_out = grad[:, k] if carry is None else grad[:, k] + carry
        if res.mask is None:
            d_new = [d_out + d_states[0]] + d_states[1:]
            passed = [None] * n_states
        else:
            keep = res.mask[:, t, None]
            d_new = [np.where(keep, d_out + d_states[0], 0.0)]
            d_new += [np.where(keep, d, 0.0) for d in d_states[1:]]
            passed = [np.where(keep, 0.0, d) for d in d_states]
            carry = None if res.zero_output else np.where(keep, 0.0, d_out)
        d_x, direct, dhd, step_terms = step.backward(matmul, d_new, states, hd, cache,
                                                     res.kernel)
        if d_inputs is None:
            d_inputs = np.zeros((batch, steps, d_x.shape[1]), dtype=res.dtype)
        d_inputs[:, t] = d_x
        terms.append(step_terms)
        if res.dropout is not None:
            dhd = dhd * res.dropout
        d_states = [_add(_add(direct[i], passed[i]), dhd if i == 0 else None)
                    for i in range(n_states)]
        d_states = [d if d is not None else np.zeros((batch, units), res.dtype)
                    for d in d_states]
    d_kernel, d_bias = None, None
    if needs[2] or (needs[3] and res.has_bias):
        # One product per kernel block over every step, not one per step.
        blocks = []
        for j in range(len(terms[0]) if terms else 0):
            left = np.concatenate([step_terms[j][0] for step_terms in terms])
            right = np.concatenate([step_terms[j][1] for step_terms in terms])
            blocks.append((left, right))
        if needs[2]:
            d_kernel = np.concatenate([matmul(left, right, transpose_a=True)
                                       for left, right in blocks], axis=1)
        if needs[3] and res.has_bias:
            d_bias = blocks[0][1].sum(axis=0)
    return (d_inputs if needs[0] else None, d_states if needs[1] else None, d_kernel, d_bias)


def _add(a, b):
    if a is None:
        return b
    return a if b is None else a + b
