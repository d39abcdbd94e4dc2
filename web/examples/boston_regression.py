# Boston housing price regression (Deep Learning with Python, 3.6): MSE loss, MAE metric.
import keras
import numpy as np

SMALL = True

keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = keras.datasets.boston_housing.load_data()
mean, std = x_train.mean(axis=0), x_train.std(axis=0)
x_train = (x_train - mean) / std
x_test = (x_test - mean) / std
print("train:", x_train.shape, "test:", x_test.shape)

model = keras.Sequential([
    keras.Input(shape=(13,)),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(1),
])
model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
history = model.fit(x_train, y_train, epochs=20 if SMALL else 80, batch_size=16,
                    validation_split=0.2, verbose=0)  # the charts still follow every epoch
print(f"val_mae after {len(history.epoch)} epochs: {history.history['val_mae'][-1]:.2f}")
mse, mae = model.evaluate(x_test, y_test, verbose=0)
print(f"Test MAE: {mae:.2f} (thousands of dollars)")
print("Predicted vs true:", np.round(model.predict(x_test[:5], verbose=0).ravel(), 1), y_test[:5])
