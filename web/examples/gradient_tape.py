# A training loop from scratch (keras.io's "Writing a training loop from scratch", TensorFlow
# edition): GradientTape, an optimizer, a loss and metric objects, tf.data datasets.
# `import tensorflow as tf` is webkeras in this tab.
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

SMALL = True

keras.utils.set_random_seed(0)
inputs = keras.Input(shape=(784,), name="digits")
x = layers.Dense(64, activation="relu")(inputs)
x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10, name="predictions")(x)
model = keras.Model(inputs=inputs, outputs=outputs)

optimizer = keras.optimizers.SGD(learning_rate=1e-2)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
val_acc_metric = keras.metrics.SparseCategoricalAccuracy()

(x_train, y_train), _ = keras.datasets.mnist.load_data()
x_train = np.reshape(x_train, (-1, 784)).astype("float32") / 255
n = 6000 if SMALL else 60000
x_val, y_val = x_train[n - 1000:n], y_train[n - 1000:n]
x_train, y_train = x_train[:n - 1000], y_train[:n - 1000]
train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(1024).batch(32)
val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(64)

for epoch in range(2):
    print(f"\nStart of epoch {epoch}")
    for step, (x_batch, y_batch) in enumerate(train_dataset):
        with tf.GradientTape() as tape:
            logits = model(x_batch, training=True)
            loss_value = loss_fn(y_batch, logits)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        train_acc_metric.update_state(y_batch, logits)
        if step % 50 == 0:
            print(f"Training loss (for 1 batch) at step {step}: {float(loss_value):.4f}")
    print(f"Training acc over epoch: {float(train_acc_metric.result()):.4f}")
    train_acc_metric.reset_state()
    for x_batch, y_batch in val_dataset:
        val_acc_metric.update_state(y_batch, model(x_batch, training=False))
    print(f"Validation acc: {float(val_acc_metric.result()):.4f}")
    val_acc_metric.reset_state()
