# Callbacks: EarlyStopping + ModelCheckpoint (best only) + CSVLogger, as the Keras guides use
# them. The checkpoint and the CSV log appear in the Files panel.
import keras

SMALL = True

keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255
if SMALL:
    x_train, y_train = x_train[:3000], y_train[:3000]

model = keras.Sequential([
    keras.Input((784,)),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
callbacks = [
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
    keras.callbacks.ModelCheckpoint("best.keras", monitor="val_loss", save_best_only=True),
    keras.callbacks.CSVLogger("training.csv"),
]
history = model.fit(x_train, y_train, epochs=8 if SMALL else 50, batch_size=64,
                    validation_split=0.2, callbacks=callbacks, verbose=2)
print(f"stopped after {len(history.epoch)} epochs")
print(open("training.csv").read())
best = keras.saving.load_model("best.keras")
print(f"best model's test accuracy: {best.evaluate(x_test, y_test, verbose=0)[1]:.4f}")
