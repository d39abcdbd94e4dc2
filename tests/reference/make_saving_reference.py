"""Writes the saving interop reference files with real Keras 3 (run once, commit the output).

    KERAS_BACKEND=jax .venv-peers/bin/python tests/reference/make_saving_reference.py

For each model: `<name>.keras`, `<name>.weights.h5`, legacy `<name>.h5`, and
`<name>.npz` holding the fixed input(s) `x0`, `x1`... and real Keras's prediction(s)
`y0`, `y1`... (inference mode). Models are compiled and trained one step, so the files
carry optimizer state and a compile config.
"""

import os
import sys
import warnings

import keras
import numpy as np
from keras import layers

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "saving")


def mlp():
    return keras.Sequential([
        keras.Input((8,)), layers.Dense(16, activation="relu"), layers.Dropout(0.3),
        layers.Dense(3, activation="softmax")], name="mlp")


def cnn():
    return keras.Sequential([
        keras.Input((8, 8, 2)), layers.Conv2D(4, 3, padding="same"),
        layers.BatchNormalization(), layers.Activation("relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(2)], name="cnn")


def embed_lstm():
    return keras.Sequential([
        keras.Input((6,), dtype="int32"), layers.Embedding(20, 4),
        layers.LSTM(5), layers.Dense(1)], name="embed_lstm")


def gru_rnn():
    return keras.Sequential([
        keras.Input((5, 3)), layers.GRU(4, return_sequences=True), layers.SimpleRNN(3),
        layers.Dense(2)], name="gru_rnn")


def functional():
    inner_in = keras.Input((6,))
    inner = keras.Model(inner_in, layers.Dense(4, activation="tanh")(inner_in), name="inner")
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    shared = layers.Dense(6, activation="relu", name="shared")
    ha, hb = shared(a), shared(b)
    merged = layers.Concatenate()([inner(ha), hb])
    out1 = layers.Dense(2, name="out1")(merged)
    out2 = layers.Dense(1, activation="sigmoid", name="out2")(layers.Add()([ha, hb]))
    return keras.Model([a, b], [out1, out2], name="two_io")


def deconv():
    return keras.Sequential([
        keras.Input((4, 4, 2)), layers.Conv2DTranspose(3, 3, strides=2, padding="same"),
        layers.UpSampling2D(2), layers.Conv2D(1, 1)], name="deconv")


def _data(model, rng):
    xs = []
    for inp in model.inputs:
        shape = (3,) + tuple(inp.shape[1:])
        if "int" in inp.dtype:
            xs.append(rng.integers(0, 20, size=shape).astype("int32"))
        else:
            xs.append(rng.standard_normal(shape).astype("float32"))
    ys = []
    for out in model.outputs:
        ys.append(rng.standard_normal((3,) + tuple(out.shape[1:])).astype("float32"))
    return xs, ys


MODELS = {"mlp": mlp, "cnn": cnn, "embed_lstm": embed_lstm, "gru_rnn": gru_rnn,
          "functional": functional, "deconv": deconv}


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    for name, make in MODELS.items():
        model = make()
        xs, ys = _data(model, rng)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        model.fit(xs if len(xs) > 1 else xs[0], ys if len(ys) > 1 else ys[0], epochs=1,
                  batch_size=3, verbose=0)
        preds = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        preds = preds if isinstance(preds, list) else [preds]
        model.save(os.path.join(OUT, f"{name}.keras"))
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.save(os.path.join(OUT, f"{name}.h5"))
        arrays = {f"x{i}": x for i, x in enumerate(xs)}
        arrays.update({f"y{i}": np.asarray(p) for i, p in enumerate(preds)})
        np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)
        print(name, "ok", file=sys.stderr)


if __name__ == "__main__":
    main()
