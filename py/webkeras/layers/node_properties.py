"""A layer's `input`, `output`, `input_shape` and `output_shape`: read from the first call on
symbolic inputs (its first inbound node), or from the shapes it was built with."""

from webkeras.utils import tree


class NodeProperties:
    """Mixed into `Layer`; reads `_inbound_nodes`, `_build_shapes` and `compute_output_shape`."""

    @property
    def output(self):
        """The output of the layer's first call on symbolic inputs (Keras 3)."""
        if "_output" in self.__dict__:
            return self.__dict__["_output"]
        return self._first_node("output").outputs

    @output.setter
    def output(self, value):
        self.__dict__["_output"] = value

    @property
    def input(self):
        """The inputs of the layer's first call on symbolic inputs (Keras 3)."""
        return self._first_node("input").call_inputs

    # tf.keras 2 read these on any layer; Keras 3 dropped them. A subclass may still set
    # its own `output_shape` / `input_shape` attribute.
    @property
    def output_shape(self):
        if "output_shape" in self.__dict__:
            return self.__dict__["output_shape"]
        if not self._inbound_nodes and self._build_shapes is not None:
            return self.compute_output_shape(self._build_shapes)
        return tree.map_structure(lambda t: t.shape, self._first_node("output_shape").outputs)

    @output_shape.setter
    def output_shape(self, value):
        self.__dict__["output_shape"] = value

    @property
    def input_shape(self):
        if "input_shape" in self.__dict__:
            return self.__dict__["input_shape"]
        if not self._inbound_nodes and self._build_shapes is not None:
            return self._build_shapes
        return tree.map_structure(lambda t: t.shape,
                                  self._first_node("input_shape").call_inputs)

    @input_shape.setter
    def input_shape(self, value):
        self.__dict__["input_shape"] = value

    def _first_node(self, attribute):
        if not self._inbound_nodes:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no defined "
                f"{attribute}. Call it on a `keras.Input(...)` (or build the model with an "
                "Input) first.")
        return self._inbound_nodes[0]
