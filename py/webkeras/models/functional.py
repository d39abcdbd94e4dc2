"""Functional models: `Model(inputs, outputs)` replays the layer calls recorded on KerasTensors.

Inputs and outputs may be one tensor, a list, or a dict; dict inputs are matched by key and
list inputs may be fed as a dict keyed by the `keras.Input(name=...)` names. Layers are
ordered as Keras orders them (by depth from the outputs, then first-visit order), which is the
order `summary()` and `model.layers` show.
"""

import collections

from webkeras.layers.keras_tensor import KerasTensor
from webkeras.models import model_config
from webkeras.models.model import Model
from webkeras.utils import tree


class Functional(Model):
    _config_module = "keras.src.models.functional"

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        if "_inputs_struct" in self.__dict__:
            return  # Model(...) built us in __new__; Python calls __init__ a second time.
        super().__init__(name=name, trainable=trainable, **kwargs)
        _check_keras_tensors("inputs", inputs)
        _check_keras_tensors("outputs", outputs)
        self._inputs_struct = _as_struct(inputs)
        self._outputs_struct = _as_struct(outputs)
        (self._nodes, self._nodes_by_depth, self._operations,
         self._ordered_nodes) = _map_graph(self.inputs, self.outputs)
        self.built = True

    def _sublayers(self):
        return list(self._operations)

    @property
    def layers(self):
        return list(self._operations)

    @property
    def inputs(self):
        return tree.flatten(self._inputs_struct)

    @property
    def outputs(self):
        return tree.flatten(self._outputs_struct)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_names(self):
        return [t._keras_history.operation.name for t in self.inputs]

    @property
    def output_names(self):
        if isinstance(self._outputs_struct, dict):
            return sorted(self._outputs_struct)
        return [t._keras_history.operation.name for t in self.outputs]

    @property
    def input_shape(self):
        shapes = tree.map_structure(lambda t: t.shape, _shape_leaves(self._inputs_struct))
        return shapes[0] if len(self.inputs) == 1 and isinstance(shapes, list) else shapes

    @property
    def output_shape(self):
        shapes = [o.shape for o in self.outputs]
        if isinstance(self._outputs_struct, dict):
            return {k: v.shape for k, v in self._outputs_struct.items()}
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_output_shape(self, input_shape):
        return self.output_shape

    # -- running the graph -------------------------------------------------------------------
    def _standardize_inputs(self, inputs):
        flat_symbolic = self.inputs
        if isinstance(inputs, dict):
            if isinstance(self._inputs_struct, dict):
                missing = [k for k in self._inputs_struct if k not in inputs]
                if missing:
                    raise ValueError(f"Missing data for input(s) {missing}. Expected the "
                                     f"following keys: {list(self._inputs_struct)}")
                return tree.flatten({k: inputs[k] for k in self._inputs_struct})
            names = [t.name for t in flat_symbolic]
            if all(n in inputs for n in names):
                return [inputs[n] for n in names]
            if len(inputs) == len(flat_symbolic):
                return [inputs[k] for k in inputs]
            raise ValueError(f"The model's inputs are named {names}, but the input dict has "
                             f"keys {list(inputs)}. Pass one entry per input name.")
        flat = tree.flatten(inputs)
        if len(flat) != len(flat_symbolic):
            raise ValueError(f"Model '{self.name}' expects {len(flat_symbolic)} input(s), "
                             f"but it received {len(flat)} input tensors. Inputs received: "
                             f"{_describe(inputs)}")
        return flat

    def call(self, inputs, training=None, mask=None):
        values = {}
        for symbolic, value in zip(self.inputs, self._standardize_inputs(inputs)):
            values[id(symbolic)] = value
        for node in self._ordered_nodes:
            layer = node.operation
            args, kwargs = tree.map_structure(
                lambda t: values[id(t)] if isinstance(t, KerasTensor) else t,
                (list(node.arguments[0]), dict(node.arguments[1])))
            if training is not None and "training" not in kwargs:
                kwargs["training"] = training
            result = layer(*args, **kwargs)
            for symbolic, value in zip(node.output_tensors, tree.flatten(result)):
                values[id(symbolic)] = value
        return tree.map_structure(lambda t: values[id(t)], self._outputs_struct)

    # -- config ------------------------------------------------------------------------------
    def get_config(self):
        return model_config.functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return model_config.functional_from_config(cls, config, custom_objects)


def _check_keras_tensors(kind, struct):
    for t in tree.flatten(struct):
        if not isinstance(t, KerasTensor):
            # Keras raises ValueError here (not TypeError); its wording is kept.
            message = (f"All `{kind}` values must be KerasTensors. Received: {kind}={struct} "
                       f"including invalid value {t} of type {type(t)}")
            raise ValueError(message)  # noqa: TRY004


def _as_struct(x):
    if isinstance(x, tuple):
        return list(x)
    return x


def _shape_leaves(struct):
    return struct if isinstance(struct, (list, dict)) else [struct]


def _describe(inputs):
    return tree.map_structure(lambda x: getattr(x, "shape", x), inputs)


def _map_graph(inputs, outputs):
    """Keras's map_graph: nodes by depth and operations in Keras's order."""
    finished, in_progress = set(), set()
    nodes_in_decreasing_depth, operation_indices = [], {}
    input_ids = {id(t) for t in inputs}

    def visit(tensor, path):
        """Whether `tensor`'s node must be expanded (its inputs visited, then it is done)."""
        history = getattr(tensor, "_keras_history", None)
        if history is None:
            raise ValueError(f"Output with path `{path}` is not connected to `inputs`")
        operation, node_index, _ = history
        node = operation._inbound_nodes[node_index]
        if id(node) in finished:
            return None
        if not node.is_input and id(tensor) in input_ids:
            finished.add(id(node))
            return None
        if id(node) in in_progress:
            raise ValueError(f"Tensor {tensor} from operation '{operation.name}' is part of "
                             "a cycle.")
        if operation not in operation_indices:
            operation_indices[operation] = len(operation_indices)
        if node.is_input and id(tensor) not in input_ids:
            raise ValueError(f"Output with path `{path}` is not connected to `inputs`: it "
                             f"depends on the input '{operation.name}', which is not one of "
                             f"the model's inputs {[t.name for t in inputs]}.")
        in_progress.add(id(node))
        return node

    # Depth-first, post-order, with an explicit stack: a chain of thousands of layers must
    # not hit Python's recursion limit.
    for path, output in _paths(outputs):
        stack = []
        node = visit(output, path)
        if node is not None:
            stack.append((node, iter([] if node.is_input else node.input_tensors)))
        while stack:
            node, pending = stack[-1]
            tensor = next(pending, None)
            if tensor is None:
                stack.pop()
                finished.add(id(node))
                in_progress.discard(id(node))
                nodes_in_decreasing_depth.append(node)
                continue
            child = visit(tensor, path)
            if child is not None:
                stack.append((child, iter([] if child.is_input else child.input_tensors)))

    nodes_depths, operations_depths = {}, {}
    node_by_id = {id(n): n for n in nodes_in_decreasing_depth}
    for node in reversed(nodes_in_decreasing_depth):
        depth = nodes_depths.setdefault(id(node), 0)
        depth = max(depth, operations_depths.get(node.operation, 0))
        operations_depths[node.operation] = depth
        nodes_depths[id(node)] = depth
        for parent in node.parent_nodes:
            if id(parent) in node_by_id:
                nodes_depths[id(parent)] = max(depth + 1, nodes_depths.get(id(parent), 0))
    for tensor in inputs:
        operation = tensor._keras_history.operation
        if operation not in operations_depths:
            operations_depths[operation] = 0
            operation_indices[operation] = -1
            node = operation._inbound_nodes[tensor._keras_history.node_index]
            node_by_id[id(node)] = node
            nodes_depths[id(node)] = 0

    nodes_by_depth = collections.defaultdict(list)
    for node_id, depth in nodes_depths.items():
        nodes_by_depth[depth].append(node_by_id[node_id])
    operations_by_depth = collections.defaultdict(list)
    for operation, depth in operations_depths.items():
        operations_by_depth[depth].append(operation)
    operations = []
    for depth in sorted(operations_by_depth, reverse=True):
        operations.extend(sorted(operations_by_depth[depth],
                                 key=lambda op: operation_indices[op]))
    counts = collections.Counter(op.name for op in operations)
    for name, count in counts.items():
        if count != 1:
            raise ValueError(f'The name "{name}" is used {count} times in the '
                             "model. All operation names should be unique.")
    ordered = [node for depth in sorted(nodes_by_depth, reverse=True)
               for node in nodes_by_depth[depth] if not node.is_input]
    return set(node_by_id), dict(nodes_by_depth), operations, ordered


def _paths(outputs):
    if isinstance(outputs, dict):
        return [(key, outputs[key]) for key in sorted(outputs)]
    if isinstance(outputs, (list, tuple)):
        return [(str(i), o) for i, o in enumerate(outputs)]
    return [("", outputs)]

