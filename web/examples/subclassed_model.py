# A subclassed model (keras.io's "Making new layers and models via subclassing"): a custom
# layer and a Model subclass with its own call(), trained with fit on Fashion-MNIST.
import keras
from keras import layers, ops

SMALL = True


class Linear(layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class MLP(keras.Model):
    def __init__(self, classes=10, **kwargs):
        super().__init__(**kwargs)
        self.hidden = Linear(64)
        self.dropout = layers.Dropout(0.1)
        self.classifier = Linear(classes)

    def call(self, inputs, training=False):
        x = ops.relu(self.hidden(inputs))
        x = self.dropout(x, training=training)
        return ops.softmax(self.classifier(x))


keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255
if SMALL:
    x_train, y_train, x_test, y_test = x_train[:4000], y_train[:4000], x_test[:1000], y_test[:1000]

model = MLP()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=2, batch_size=64, validation_split=0.1)
print(f"Test accuracy: {model.evaluate(x_test, y_test, verbose=0)[1]:.4f}")
