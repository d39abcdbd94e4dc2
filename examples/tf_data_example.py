"""The tf.data example of the classic TensorFlow Keras guide, unchanged but for imports.

Trains on an endlessly repeating Dataset: 30 steps per epoch, 3 validation steps.
"""

import numpy as np

import webkeras as keras  # was: from tensorflow import keras
import webkeras as tf  # was: import tensorflow as tf (only `tf.data` is used)
from webkeras import layers  # was: from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu", input_shape=(32,)),
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(0.01),
              loss="categorical_crossentropy",
              metrics=["accuracy"])

data = np.random.random((1000, 32))
labels = np.random.random((1000, 10))

val_data = np.random.random((100, 32))
val_labels = np.random.random((100, 10))

# Instantiates a toy dataset instance:
dataset = tf.data.Dataset.from_tensor_slices((data, labels))
dataset = dataset.batch(32)
dataset = dataset.repeat()

val_dataset = tf.data.Dataset.from_tensor_slices((val_data, val_labels))
val_dataset = val_dataset.batch(32).repeat()

history = model.fit(dataset, epochs=10, steps_per_epoch=30,
                    validation_data=val_dataset,
                    validation_steps=3)

result = model.evaluate(dataset, steps=30)
predictions = model.predict(dataset, steps=30)
print(predictions.shape)
