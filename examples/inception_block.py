"""An Inception-style block: parallel 1x1, 3x3, 5x5 and pooling branches, concatenated."""

import numpy as np
import webkeras as keras

layers = keras.layers


def inception_module(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj):
    branch1 = layers.Conv2D(f1, 1, padding="same", activation="relu")(x)
    branch3 = layers.Conv2D(f3_reduce, 1, padding="same", activation="relu")(x)
    branch3 = layers.Conv2D(f3, 3, padding="same", activation="relu")(branch3)
    branch5 = layers.Conv2D(f5_reduce, 1, padding="same", activation="relu")(x)
    branch5 = layers.Conv2D(f5, 5, padding="same", activation="relu")(branch5)
    pool = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    pool = layers.Conv2D(pool_proj, 1, padding="same", activation="relu")(pool)
    return layers.concatenate([branch1, branch3, branch5, pool], axis=-1)


inputs = keras.Input(shape=(16, 16, 8))
x = inception_module(inputs, 8, 6, 8, 2, 4, 4)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs, name="inception_block")
model.summary()
print("Output shape:", model(np.zeros((2, 16, 16, 8), "float32")).shape)
