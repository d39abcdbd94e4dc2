"""Functional models: `Model(inputs, outputs)` replays the layer calls recorded on KerasTensors."""

from webkeras.layers.keras_tensor import KerasTensor
from webkeras.models.model import Model, _accepts_training
from webkeras.utils import tree


class Functional(Model):
    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._nodes = _topological_nodes(tree.flatten(inputs), tree.flatten(outputs))
        self._layers = []
        for layer, _, _ in self._nodes:
            if all(layer is not known for known in self._layers):
                self._layers.append(layer)
        self.built = True

    def _sublayers(self):
        return list(self._layers)

    @property
    def inputs(self):
        return tree.flatten(self._inputs_struct)

    @property
    def outputs(self):
        return tree.flatten(self._outputs_struct)

    @property
    def output_shape(self):
        shapes = [o.shape for o in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def call(self, inputs, training=None):
        values = {}
        for symbolic, value in zip(tree.flatten(self._inputs_struct), tree.flatten(inputs)):
            values[id(symbolic)] = value
        for layer, layer_inputs, layer_outputs in self._nodes:
            args = tree.map_structure(lambda t: values[id(t)], layer_inputs)
            kwargs = {"training": training} if _accepts_training(layer.call) else {}
            result = layer(args, **kwargs)
            for symbolic, value in zip(tree.flatten(layer_outputs), tree.flatten(result)):
                values[id(symbolic)] = value
        return tree.map_structure(lambda t: values[id(t)], self._outputs_struct)


def _topological_nodes(inputs, outputs):
    """(layer, symbolic inputs, symbolic outputs) in call order, from outputs back to inputs."""
    input_ids = {id(t) for t in inputs}
    produced = {}
    order, visiting = [], set()

    def visit(tensor):
        if id(tensor) in input_ids:
            return
        history = getattr(tensor, "_keras_history", None)
        if not isinstance(tensor, KerasTensor) or history is None or history[1] is None:
            raise ValueError(
                f"Output tensor {tensor!r} is not connected to the model inputs "
                f"{[t.name for t in inputs]}: every output must be computed from `inputs`."
            )
        layer, layer_inputs, layer_outputs = history
        key = (id(layer), id(layer_inputs))
        if key in produced:
            return
        if key in visiting:
            raise ValueError("The functional graph has a cycle.")
        visiting.add(key)
        for t in tree.flatten(layer_inputs):
            visit(t)
        node = (layer, layer_inputs, layer_outputs)
        produced[key] = node
        order.append(node)

    for out in outputs:
        visit(out)
    return order
