"""The functional API's first example: Input -> Flatten -> Dense layers (Keras guide)."""

import numpy as np
import webkeras as keras

inputs = keras.Input(shape=(28, 28), name="digits")
x = keras.layers.Flatten()(inputs)
x = keras.layers.Dense(64, activation="relu", name="dense_1")(x)
x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
outputs = keras.layers.Dense(10, name="predictions")(x)
model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
model.summary()

print("Inputs:", [tuple(t.shape) for t in model.inputs])
print("Output shape:", model.output_shape)
print("Prediction shape:", model(np.zeros((3, 28, 28), "float32")).shape)
clone = keras.models.model_from_json(model.to_json())
print("Round trip through JSON:", [layer.name for layer in clone.layers])
