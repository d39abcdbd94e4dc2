# MNIST MLP: the "hello world" of Keras (keras.io's simple MNIST example, as an MLP).
import keras
import numpy as np

SMALL = True  # a slice of the data and one epoch, so it runs in seconds; False: the real thing

keras.utils.set_random_seed(42)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255
if SMALL:
    x_train, y_train, x_test, y_test = x_train[:6000], y_train[:6000], x_test[:1000], y_test[:1000]
print("x_train:", x_train.shape, "x_test:", x_test.shape)

model = keras.Sequential([
    keras.Input(shape=(784,)),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dropout(0.2),
    keras.layers.Dense(10, activation="softmax"),
])
model.summary()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=128, epochs=2 if SMALL else 10,
                    validation_split=0.1)

model.save("mnist_mlp.keras")  # see the Files panel
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test loss: {loss:.4f}")
print(f"Test accuracy: {accuracy:.4f}")
print("First predictions:", np.argmax(model.predict(x_test[:10], verbose=0), axis=1))
print("Labels:           ", y_test[:10])
