"""Model.summary(): Keras 3's table, character for character.

Keras renders the table with `rich`; this module reproduces the layout rich gives it (column
widths, word wrapping, ellipsis truncation) without depending on rich, so the same text comes
out natively and under Pyodide.
"""

import itertools
import math
import re
import shutil
import sys

from webkeras.utils import tree

_SEQUENTIAL = ([0.45, 0.80, 1.0], 88, ["Layer (type)", "Output Shape", "Param #"],
               ["left", "left", "right"])
_FUNCTIONAL = ([0.3, 0.56, 0.74, 1.0], 108,
               ["Layer (type)", "Output Shape", "Param #", "Connected to"],
               ["left", "left", "right", "left"])


def count_params(weights):
    return int(sum(math.prod(w.shape) for w in weights))


def weight_memory_size(weights):
    total = 0
    for w in weights:
        itemsize = 8 if "64" in str(w.dtype) else (1 if str(w.dtype) == "bool" else 4)
        total += math.prod(w.shape) * itemsize
    return total


def readable_memory_size(size):
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} {units[-1]}"


def _format_shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def format_layer_shape(layer):
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes and getattr(layer, "_build_shapes", None) is None:
        return "?"
    if nodes:
        output_shapes = tree.map_structure(lambda t: _format_shape(t.shape), nodes[-1].outputs)
    else:
        try:
            if type(layer).__name__ == "Sequential" or hasattr(type(layer), "output_shape"):
                shapes = layer.output_shape
            else:
                shapes = layer.compute_output_shape(layer._build_shapes)
        except Exception:  # noqa: BLE001 - Keras prints "?" for any failure
            return "?"
        output_shapes = _map_shapes(shapes)
    flat = tree.flatten(output_shapes)
    if len(flat) == 1:
        return flat[0]
    return str(output_shapes).replace("'", "")


def _map_shapes(shapes):
    if isinstance(shapes, (tuple, list)) and all(d is None or isinstance(d, int)
                                                 for d in shapes):
        return _format_shape(shapes)
    if isinstance(shapes, dict):
        return {k: _map_shapes(v) for k, v in shapes.items()}
    return [_map_shapes(s) for s in shapes]


def _is_sequential_like(model):
    from webkeras.models.functional import Functional

    if not isinstance(model, Functional):
        return True
    nodes = []
    for v in model._nodes_by_depth.values():
        if len(v) > 1 or (len(v) == 1 and len(v[0].input_tensors) > 1):
            return False
        nodes += v
    node_ids = {id(n) for n in nodes}
    for layer in model.layers:
        if sum(1 for node in layer._inbound_nodes if id(node) in node_ids) > 1:
            return False
    return True


def _column_widths(positions, line_length):
    """Keras's column widths, then rich's even reduction to fit the table's width."""
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    cells = [w + 2 for w in widths]  # rich adds one space of padding on each side
    available = line_length - (len(cells) + 1)
    excess = sum(cells) - available
    if excess > 0:
        cells = _ratio_reduce(excess, [1] * len(cells), cells, cells)
    return cells


def _ratio_reduce(total, ratios, maximums, values):
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining, out = total, []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            out.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            out.append(value)
    return out


def _wrap(text, width):
    """rich's word wrap with overflow='ellipsis': long words are cut to fit, ending in '…'."""
    lines = []
    for paragraph in str(text).split("\n"):
        words = [(m.start(), m.group()) for m in re.finditer(r"\s*\S+\s*", paragraph)]
        breaks, offset = [], 0
        for start, word in words:
            length = len(word.rstrip())
            if width - offset >= length:
                offset += len(word)
            else:
                if start:
                    breaks.append(start)
                offset = len(word)
        bounds = [0] + breaks + [len(paragraph)]
        for a, b in itertools.pairwise(bounds):
            line = paragraph[a:b].rstrip()
            if len(line) > width:
                line = line[:width - 1] + "…"
            lines.append(line)
    return lines or [""]


def _render_row(cells, widths, alignment, bar):
    wrapped = [_wrap(cell, w - 2) for cell, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    out = []
    for i in range(height):
        parts = []
        for lines, width, align in zip(wrapped, widths, alignment):
            text = lines[i] if i < len(lines) else ""
            inner = width - 2
            text = text.rjust(inner) if align == "right" else text.ljust(inner)
            parts.append(f" {text} ")
        out.append(bar + bar.join(parts) + bar)
    return out


def _connections(layer, relevant):
    parts = []
    for node in layer._inbound_nodes:
        if relevant and id(node) not in relevant:
            continue
        for t in node.input_tensors:
            history = t._keras_history
            parts.append(f"{history.operation.name}[{history.node_index}]"
                         f"[{history.tensor_index}]")
    return ", ".join(parts) or "-"


def layer_index_bounds(layers, layer_range=None):
    """[start, stop) of the layers that `layer_range` = [first name, last name] spans, each
    name a regular expression matched at the start of layer names (as Keras 3 reads it)."""
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError("layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range = {layer_range} of length {len(layer_range)}")
    if not all(isinstance(name, str) for name in layer_range):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    first = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    last = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not first or not last:
        raise ValueError("Passed layer_names do not match the layer names in the model. "
                         f"Received: {layer_range}")
    if min(first) > max(last):
        return min(last), max(first) + 1
    return min(first), max(last) + 1


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  expand_nested=False, show_trainable=False, layer_range=None):
    from webkeras.models.functional import Functional

    sequential_like = _is_sequential_like(model)
    default_positions, default_length, header, alignment = (
        _SEQUENTIAL if sequential_like else _FUNCTIONAL)
    positions = list(positions or default_positions)
    header, alignment = list(header), list(alignment)
    relevant = set()
    if isinstance(model, Functional) and not sequential_like:
        relevant = {id(n) for v in model._nodes_by_depth.values() for n in v}
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        alignment.append("center")
    default_length = min(default_length, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(positions, line_length or default_length)

    def fields(layer, prefix=""):
        name = f"{prefix}{layer.name} ({type(layer).__name__})"
        if not getattr(layer, "built", True):
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        row = [name, format_layer_shape(layer), params]
        if not sequential_like:
            row.append(_connections(layer, relevant))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    def rows_for(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        rows = [fields(layer, prefix)]
        if expand_nested and getattr(layer, "layers", None):
            for sub in layer.layers:
                rows.extend(rows_for(sub, level + 1))
        return rows

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━")]
    head_alignment = ["center" if a == "center" else a for a in alignment]
    lines += _render_row(header, widths, head_alignment, "┃")
    lines.append(rule("┡", "╇", "┩", "━"))
    start, stop = layer_index_bounds(model.layers, layer_range)
    rows = [row for layer in model.layers[start:stop] for row in rows_for(layer)]
    for i, row in enumerate(rows):
        lines += _render_row(row, widths, alignment, "│")
        if i < len(rows) - 1:
            lines.append(rule("├", "┼", "┤", "─"))
    lines.append(rule("└", "┴", "┘", "─"))
    trainable = count_params(model.trainable_weights)
    non_trainable = count_params(model.non_trainable_weights)
    trainable_size = weight_memory_size(model.trainable_weights)
    non_trainable_size = weight_memory_size(model.non_trainable_weights)
    optimizer = getattr(model, "optimizer", None)
    optimizer_variables = list(getattr(optimizer, "variables", []) or []) \
        if getattr(model, "compiled", False) and getattr(optimizer, "built", False) else []
    total = trainable + non_trainable + count_params(optimizer_variables)
    total_size = trainable_size + non_trainable_size + weight_memory_size(optimizer_variables)
    lines.append(f" Total params: {total:,} ({readable_memory_size(total_size)})")
    lines.append(f" Trainable params: {trainable:,} ({readable_memory_size(trainable_size)})")
    lines.append(f" Non-trainable params: {non_trainable:,} "
                 f"({readable_memory_size(non_trainable_size)})")
    if optimizer_variables:
        lines.append(f" Optimizer params: {count_params(optimizer_variables):,} "
                     f"({readable_memory_size(weight_memory_size(optimizer_variables))})")
    text = "\n".join(lines) + "\n"
    if print_fn is not None:
        print_fn(text)
    else:
        sys.stdout.write(text)
