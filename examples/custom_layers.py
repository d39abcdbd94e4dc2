"""Custom layers: MyDenseLayer (add_weight in build) and MyLayer (get_config round trip)."""

import numpy as np
import webkeras as keras


class MyDenseLayer(keras.layers.Layer):
    def __init__(self, num_outputs):
        super().__init__()
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=[int(input_shape[-1]), self.num_outputs],
                                      name="kernel")

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.kernel)


layer = MyDenseLayer(10)
_ = layer(np.zeros([10, 5], "float32"))
print([var.name for var in layer.trainable_variables])


class MyLayer(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True, name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True,
                                 name="b")

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


layer = MyLayer(64)
config = layer.get_config()
print(config["units"])
new_layer = MyLayer.from_config(config)
print(new_layer.units)

inputs = keras.Input((4,))
outputs = MyLayer(8, name="my_layer")(inputs)
model = keras.Model(inputs, outputs)
model.summary()
restored = keras.models.model_from_json(model.to_json(), custom_objects={"MyLayer": MyLayer})
print([type(layer).__name__ for layer in restored.layers])
