"""Model.summary(): Keras's table of layers, output shapes and parameter counts."""

import math


def _format_shape(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _format_size(params):
    size = params * 4
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


def print_summary(model, line_length=None, print_fn=None):
    print_fn = print_fn or print
    widths = (33, 24, 15)
    rows = []
    for layer in model.layers:
        try:
            shape = _format_shape(getattr(layer, "_summary_output_shape", None) or
                                  _output_shape(model, layer))
        except Exception:  # noqa: BLE001 - an unbuilt layer shows '?'
            shape = "?"
        params = layer.count_params() if layer.built else 0
        rows.append((f"{layer.name} ({type(layer).__name__})", shape, f"{params:,}"))

    def line(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def row(cells, bar="│"):
        a, b, c = cells
        return (f"{bar} {a:<{widths[0]}} {bar} {b:<{widths[1]}} {bar} {c:>{widths[2]}} {bar}")

    print_fn(f'Model: "{model.name}"')
    print_fn(line("┏", "┳", "┓", "━"))
    print_fn(row(("Layer (type)", "Output Shape", "Param #"), "┃"))
    print_fn(line("┡", "╇", "┩", "━"))
    for i, r in enumerate(rows):
        print_fn(row(r))
        if i < len(rows) - 1:
            print_fn(line("├", "┼", "┤", "─"))
    print_fn(line("└", "┴", "┘", "─"))
    trainable = sum(math.prod(v.shape) for v in model.trainable_variables)
    total = sum(math.prod(v.shape) for v in model.variables)
    print_fn(f" Total params: {total:,} ({_format_size(total)})")
    print_fn(f" Trainable params: {trainable:,} ({_format_size(trainable)})")
    print_fn(f" Non-trainable params: {total - trainable:,} ({_format_size(total - trainable)})")


def _output_shape(model, layer):
    from webkeras.layers.keras_tensor import KerasTensor

    shape = getattr(model, "_input_batch_shape", None)
    x = KerasTensor(shape)
    for candidate in model.layers:
        x = candidate.compute_output_shape(x.shape) if hasattr(x, "shape") else x
        x = KerasTensor(x)
        if candidate is layer:
            return x.shape
    raise ValueError(layer.name)
