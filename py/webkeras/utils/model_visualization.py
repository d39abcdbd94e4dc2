"""keras.utils.plot_model and keras.utils.model_to_dot: a model's layer graph as Graphviz DOT.

Keras builds the graph with pydot; here a small `Dot` object writes the same DOT text
(HTML-like labels, one box per layer, an edge per connection) with no dependency.
`plot_model` turns it into an image with Graphviz's `dot` program when it is installed,
and writes the DOT text itself for `to_file="model.dot"` without it. In the browser tab the
workbench draws the same text with Graphviz compiled to WebAssembly.

Example:
```python
inputs = keras.Input((784,), name="digits")
outputs = keras.layers.Dense(10, activation="softmax")(inputs)
model = keras.Model(inputs, outputs)
print(keras.utils.model_to_dot(model, show_shapes=True).to_string())
keras.utils.plot_model(model, to_file="model.png", show_shapes=True)  # needs Graphviz
```
"""

import html
import os
import shutil
import subprocess

from webkeras.utils import tree

GRAPHVIZ_PROGRAM = "dot"
GRAPHVIZ_MISSING = (
    "You must install graphviz (see instructions at https://graphviz.gitlab.io/download/) "
    "for `plot_model` to work: Graphviz's `dot` program was not found on PATH. Without it, "
    "`plot_model(model, to_file='model.dot')` writes the graph as DOT text, and "
    "`keras.utils.model_to_dot(model).to_string()` returns that text.")
# Formats written as DOT text, without Graphviz.
DOT_FORMATS = ("dot", "gv", "raw")


def _quote(value):
    """A DOT attribute value: HTML-like labels (`<...>`) as they are, others quoted."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if text.startswith("<") and text.endswith(">"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attributes(attributes):
    return ", ".join(f"{key}={_quote(value)}" for key, value in attributes.items())


class Dot:
    """A Graphviz graph (or a cluster inside one, added with `add_subgraph`), serving
    `model_to_dot`'s callers as pydot's `Dot` does: `to_string()`, `create()`, `write()`."""

    def __init__(self, name="G", **attributes):
        self.name = name
        self.attributes = dict(attributes)
        self.node_defaults = {}
        self.nodes = {}  # node id -> attributes
        self.edges = []  # (source id, destination id)
        self.subgraphs = []

    def set(self, key, value):
        self.attributes[key] = value

    def add_node(self, node_id, **attributes):
        self.nodes[str(node_id)] = attributes

    def add_edge(self, source, destination):
        edge = (str(source), str(destination))
        if edge not in self.edges:
            self.edges.append(edge)

    def add_subgraph(self, subgraph):
        self.subgraphs.append(subgraph)

    def _lines(self, indent):
        pad = " " * indent
        lines = [f"{pad}{key}={_quote(value)};" for key, value in self.attributes.items()]
        if self.node_defaults:
            lines.append(f"{pad}node [{_attributes(self.node_defaults)}];")
        lines += [f"{pad}{_quote(node_id)} [{_attributes(attributes)}];"
                  for node_id, attributes in self.nodes.items()]
        for subgraph in self.subgraphs:
            lines.append(f"{pad}subgraph {_quote('cluster_' + subgraph.name)} {{")
            lines += subgraph._lines(indent + 2)
            lines.append(f"{pad}}}")
        lines += [f"{pad}{_quote(a)} -> {_quote(b)} [penwidth=2];" for a, b in self.edges]
        return lines

    def to_string(self):
        """The graph in the DOT language."""
        return "\n".join([f"digraph {_quote(self.name)} {{", *self._lines(2), "}", ""])

    def create(self, prog=GRAPHVIZ_PROGRAM, format="png"):  # noqa: A002 - pydot's name
        """The graph drawn by Graphviz's `prog` in `format`, as bytes."""
        program = shutil.which(prog)
        if program is None:
            raise ImportError(GRAPHVIZ_MISSING)
        result = subprocess.run([program, f"-T{format}"], input=self.to_string().encode(),
                                capture_output=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"Graphviz's {prog} could not draw the model graph as {format}: "
                               f"{result.stderr.decode(errors='replace').strip()}")
        return result.stdout

    def write(self, path, format="raw"):  # noqa: A002 - pydot's name
        """Writes the DOT text (`format` "raw"/"dot"/"gv") or Graphviz's drawing to `path`."""
        data = (self.to_string().encode() if format in DOT_FORMATS
                else self.create(format=format))
        with open(path, "wb") as file:
            file.write(data)


def image_format(to_file):
    """The format `plot_model` writes `to_file` in: its extension, else png (as Keras)."""
    extension = os.path.splitext(str(to_file))[1]
    return extension[1:].lower() if extension else "png"


# -- the layer graph --------------------------------------------------------------------------
# utils sits below models, so the two graph kinds are told apart by what they hold: a
# functional model its nodes and operations, a Sequential model its chain of layer outputs.
def _is_functional(model):
    return getattr(model, "_nodes", None) is not None and hasattr(model, "_operations")


def _is_sequential(model):
    return hasattr(model, "_layer_outputs")


def _is_graph_model(layer):
    return _is_functional(layer) or _is_sequential(layer)


def _format_shape(shape):
    if isinstance(shape, dict):
        return ", ".join(f"{key}: {value}" for key, value in shape.items())
    return "?" if shape is None else str(shape)


def _symbolic_shapes(layer, attribute):
    try:
        return tree.map_structure(lambda x: x.shape, getattr(layer, attribute))
    except (ValueError, AttributeError):
        return None


def _activation_name(activation):
    return getattr(activation, "name", None) or getattr(activation, "__name__", None) \
        or str(activation)


def _cell(text, colspan=None, background="white", color=None):
    span = f' colspan="{colspan}"' if colspan else ""
    font = f' color="{color}"' if color else ""
    return (f'<td{span} bgcolor="{background}"><font point-size="14"{font}>{text}'
            "</font></td>")


def layer_label(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations,
                show_trainable):
    """The HTML-like label of a layer's box, laid out as Keras lays it out."""
    class_name = type(layer).__name__
    name = html.escape(layer.name)
    cells = []
    if show_shapes:
        if class_name != "InputLayer":
            shape = _format_shape(_symbolic_shapes(layer, "input"))
            cells.append(_cell(f"Input shape: <b>{html.escape(shape)}</b>"))
        shape = _format_shape(_symbolic_shapes(layer, "output"))
        cells.append(_cell(f"Output shape: <b>{html.escape(shape)}</b>"))
    if show_dtype:
        try:
            dtype = tree.map_structure(lambda x: x.dtype, layer.output)
        except (ValueError, AttributeError):
            dtype = None
        cells.append(_cell(f"Output dtype: <b>{html.escape(str(dtype or '?'))}</b>"))
    if show_trainable and layer.weights:
        cells.append(_cell("<b>Trainable</b>", background="forestgreen", color="white")
                     if layer.trainable else
                     _cell("<b>Non-trainable</b>", background="firebrick", color="white"))
    colspan = max(1, len(cells))
    title = f"<b>{name}</b> ({class_name})" if show_layer_names else f"<b>{class_name}</b>"
    rows = [f'<tr><td colspan="{colspan}" bgcolor="black"><font point-size="16" '
            f'color="white">{title}</font></td></tr>']
    activation = getattr(layer, "activation", None) if show_layer_activations else None
    if activation is not None:
        text = f"Activation: <b>{html.escape(_activation_name(activation))}</b>"
        rows.append(f"<tr>{_cell(text, colspan)}</tr>")
    if cells:
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
            + "".join(rows) + "</table>>")


def _add_layer(dot, layer, label_options):
    dot.add_node(id(layer), label=layer_label(layer, **label_options), fontname="Helvetica",
                 border="0", margin="0")


def _edge_ends(source, destination, output_index, input_index):
    """The boxes an edge joins once nested models are expanded into their own layers."""
    while _is_graph_model(source):
        source, _, output_index = source.outputs[output_index]._keras_history
    while _is_graph_model(destination):
        destination = (destination.inputs[input_index]._keras_history.operation
                       if _is_functional(destination) else destination.layers[0])
    return source, destination


def _add_edges(dot, model, layers, expand_nested):
    for layer in layers:
        for node in layer._inbound_nodes:
            if _is_functional(model) and id(node) not in model._nodes:
                continue  # a call of the layer outside this model
            for input_index, tensor in enumerate(node.input_tensors):
                history = tensor._keras_history
                if history is None or history.operation is None:
                    continue
                source = history.operation._inbound_nodes[history.node_index].operation
                if expand_nested:
                    source, destination = _edge_ends(source, layer, history.tensor_index,
                                                     input_index)
                    dot.add_edge(id(source), id(destination))
                else:
                    dot.add_edge(id(source), id(layer))


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, splines="ortho", **kwargs):
    """Converts a Keras model to dot format.

    Args:
        model: A built Keras model.
        show_shapes: whether to display input and output shapes.
        show_dtype: whether to display output dtypes.
        show_layer_names: whether to display layer names.
        rankdir: `"TB"` a vertical plot, `"LR"` a horizontal one.
        expand_nested: whether to expand nested functional/Sequential models into clusters.
        dpi: image resolution in dots per inch.
        subgraph: return a cluster (used for nested models) instead of a whole graph.
        show_layer_activations: display the activation of layers that have one.
        show_trainable: display whether each layer with weights is trainable.
        splines: how edges are drawn: `"ortho"`, `"curved"`, `"polyline"`, `"spline"`, `"line"`.

    Returns:
        A `Dot` object; `.to_string()` is the DOT text.
    """
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if subgraph:
        dot = Dot(model.name, style="dashed", label=model.name, labeljust="l")
    else:
        dot = Dot(rankdir=rankdir, concentrate=True, dpi=dpi, splines=splines)
        dot.node_defaults["shape"] = "record"
    label_options = {"show_shapes": show_shapes, "show_dtype": show_dtype,
                     "show_layer_names": show_layer_names,
                     "show_layer_activations": show_layer_activations,
                     "show_trainable": show_trainable}
    if not _is_graph_model(model):
        _add_layer(dot, model, label_options)  # a subclassed model is one box
        return dot
    layers = model._operations if _is_functional(model) else model.layers
    for layer in layers:
        if expand_nested and _is_graph_model(layer):
            dot.add_subgraph(model_to_dot(layer, subgraph=True, expand_nested=True,
                                          rankdir=rankdir, **label_options))
        else:
            _add_layer(dot, layer, label_options)
    if _is_sequential(model):
        if not expand_nested:
            for previous, layer in zip(layers, layers[1:]):
                dot.add_edge(id(previous), id(layer))
            return dot
        # The first layer's incoming edge comes from outside the nested Sequential model.
        layers = layers[1:]
    _add_edges(dot, model, layers, expand_nested)
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho", **kwargs):
    """Converts a Keras model to dot format and saves it to a file.

    The image needs Graphviz's `dot` program (an ImportError says so when it is missing);
    `to_file` ending in `.dot` or `.gv` is written as DOT text without it. Arguments as in
    `model_to_dot`; the format is `to_file`'s extension (png when it has none).

    Example:
    ```python
    keras.utils.plot_model(model, to_file="model.png", show_shapes=True)
    ```
    """
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines, **kwargs)
    dot.write(str(to_file), format=image_format(to_file))
