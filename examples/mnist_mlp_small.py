"""Sequential MNIST MLP (the 25,450-parameter variant with a Dense(32) hidden layer).

Unchanged Keras tutorial code but for the import line. Optional argument: number of training
images (default 6000) so the native run stays quick; 0 prints the summary only.
"""

import sys

import webkeras as keras

samples = int(sys.argv[1]) if len(sys.argv) > 1 else 6000

keras.utils.set_random_seed(1)
model = keras.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(32, activation="relu"),
    keras.layers.Dropout(0.2),
    keras.layers.Dense(10),
])
model.summary()
if not samples:  # 0: architecture only (tests compare the summary with real Keras's)
    sys.exit(0)

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train, y_train = x_train[:samples] / 255.0, y_train[:samples]
x_test, y_test = x_test[:2000] / 255.0, y_test[:2000]
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
model.fit(x_train, y_train, epochs=2, verbose=2)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {accuracy:.2f}")
print("Output shape:", model(x_test[:5]).shape)
