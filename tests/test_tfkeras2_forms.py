"""tf.keras 2 forms that Keras 3 dropped but TF2-era tutorials still use, accepted beside
Keras 3's own: positional weight names, one metric list for every output, the `*_generator`
methods, legacy loop arguments and the `keras.backend` ("K") helper functions."""

import numpy as np
import pytest

import webkeras as keras
from webkeras import layers, ops
from webkeras import backend as K


class MyDenseLayer(keras.layers.Layer):
    """The TensorFlow 2 "Custom layers" tutorial's layer."""

    def __init__(self, num_outputs):
        super().__init__()
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.kernel = self.add_variable("kernel", shape=[int(input_shape[-1]),
                                                         self.num_outputs])

    def call(self, inputs):
        return ops.matmul(inputs, self.kernel)


def test_the_tf2_tutorials_add_variable_with_a_positional_name():
    layer = MyDenseLayer(10)
    _ = layer(ops.zeros([10, 5]))
    assert [var.name for var in layer.trainable_variables] == ["kernel"]
    assert layer.kernel.shape == (5, 10)


def test_add_weight_positional_forms_of_both_versions():
    class Both(keras.layers.Layer):
        def build(self, input_shape):
            # tf.keras 2: (name, shape, dtype, initializer, regularizer, trainable)
            self.a = self.add_weight("a", (2, 3), "float32", "ones", None, False)
            # Keras 3: (shape, initializer, dtype)
            self.b = self.add_weight((3,), "zeros", "float32", name="b")
            self.c = self.add_variable((4,), "ones")

    layer = Both()
    layer.build((None, 2))
    assert (layer.a.name, layer.a.shape, layer.a.trainable) == ("a", (2, 3), False)
    np.testing.assert_array_equal(layer.a.numpy(), np.ones((2, 3)))
    assert (layer.b.name, layer.b.shape) == ("b", (3,))
    np.testing.assert_array_equal(layer.c.numpy(), np.ones(4))
    with pytest.raises(TypeError, match="`shape` was passed both"):
        layer.add_weight((2,), shape=(3,))


def two_headed_model():
    inputs = keras.Input((6,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    a = layers.Dense(3, activation="softmax", name="a")(hidden)
    b = layers.Dense(2, activation="softmax", name="b")(hidden)
    return keras.Model(inputs, [a, b])


def test_one_metric_list_applies_to_every_output_as_tf_keras_2_did():
    model = two_headed_model()
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.random((16, 6)).astype("float32")
    history = model.fit(x, [rng.integers(0, 3, 16), rng.integers(0, 2, 16)], epochs=1,
                        verbose=0)
    assert sorted(history.history) == ["a_accuracy", "a_loss", "b_accuracy", "b_loss", "loss"]


def test_a_metric_object_is_cloned_for_each_output():
    model = two_headed_model()
    metric = keras.metrics.SparseCategoricalAccuracy()
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=[metric, "acc"])
    x, y = np.zeros((4, 6), "float32"), [np.zeros(4), np.zeros(4)]
    # Keras 3's meaning first: a list as long as the outputs is one entry per output.
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(logs) == ["a_loss", "a_sparse_categorical_accuracy", "b_acc", "b_loss",
                            "loss"]
    model.compile("adam", loss="sparse_categorical_crossentropy",
                  metrics=[keras.metrics.SparseCategoricalAccuracy(), "acc",
                           "sparse_categorical_crossentropy"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert {"a_sparse_categorical_accuracy", "b_sparse_categorical_accuracy", "a_acc",
            "b_acc", "a_sparse_categorical_crossentropy",
            "b_sparse_categorical_crossentropy"} <= set(logs)
    metrics = [m for m in model.metrics if m.name == "sparse_categorical_accuracy"]
    assert len(metrics) == 2 and metrics[0] is not metrics[1]


def test_a_mismatched_list_of_lists_still_fails_as_in_keras_3():
    model = two_headed_model()
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=[["accuracy"]])
    with pytest.raises(ValueError, match="Invalid `metrics`"):
        model.evaluate(np.zeros((4, 6)), [np.zeros(4), np.zeros(4)], verbose=0)


def batches(n_batches=4, seed=0):
    rng = np.random.default_rng(seed)
    while True:
        for _ in range(n_batches):
            x = rng.random((8, 3)).astype("float32")
            yield x, x.sum(axis=1, keepdims=True)


def test_generator_methods_are_aliases_of_fit_evaluate_predict():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(lr=0.05), loss="mse")
    history = model.fit_generator(batches(), steps_per_epoch=4, epochs=3, verbose=0,
                                  validation_data=batches(seed=1), validation_steps=2,
                                  workers=1, use_multiprocessing=False, max_queue_size=10)
    assert len(history.history["loss"]) == 3 and "val_loss" in history.history
    loss = model.evaluate_generator(batches(seed=2), steps=2)
    assert np.isfinite(loss)
    predictions = model.predict_generator((x for x, _ in batches(seed=3)), steps=2)
    assert predictions.shape == (16, 1)


def test_fit_accepts_tf_keras_2_queue_arguments():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((8, 3)), np.ones((8, 1))
    model.fit(x, y, verbose=0, workers=2, use_multiprocessing=False, max_queue_size=4)
    model.evaluate(x, y, verbose=0, workers=2)
    model.predict(x, verbose=0, workers=2)
    with pytest.raises(TypeError, match="nb_epoch"):
        model.fit(x, y, verbose=0, nb_epoch=3)


def test_backend_helpers_of_tf2_tutorials():
    x = ops.convert_to_tensor(np.arange(6, dtype="float32").reshape(2, 3))
    assert K.int_shape(x) == (2, 3)
    assert K.int_shape(keras.Input((4,))) == (None, 4)
    assert K.ndim(x) == 2 and K.dtype(x) == "float32"
    assert float(K.sum(x)) == 15.0
    np.testing.assert_allclose(K.mean(x, axis=1).numpy(), [1.0, 4.0])
    np.testing.assert_allclose(K.sum(K.square(x), axis=-1, keepdims=True).numpy(),
                               [[5.0], [50.0]])
    np.testing.assert_allclose(K.sqrt(K.maximum(x, K.epsilon())).numpy()[0, 1], 1.0)
    np.testing.assert_allclose(K.concatenate([x, x]).numpy().shape, (2, 6))
    np.testing.assert_allclose(K.dot(x, K.transpose(x)).numpy(), x.numpy() @ x.numpy().T)
    assert K.batch_flatten(ops.ones((2, 3, 4))).shape == (2, 12)
    assert K.floatx() == "float32" and K.epsilon() == 1e-7
    np.testing.assert_allclose(K.clip(x, 1.0, 2.0).numpy().ravel(), [1, 1, 2, 2, 2, 2])
    assert K.cast_to_floatx(np.arange(3)).dtype == np.float32
    v = K.variable(np.zeros((2,)))
    K.set_value(v, [1.0, 2.0])
    np.testing.assert_array_equal(K.get_value(v), [1.0, 2.0])
    np.testing.assert_allclose(K.eval(K.pow(x, 2)), x.numpy() ** 2, rtol=1e-6)
    assert K.is_keras_tensor(keras.Input((2,))) and not K.is_keras_tensor(x)
    assert K.learning_phase() == 0
    K.clear_session()
    assert layers.Dense(1).name == "dense"


def test_the_classic_custom_metric_written_with_k():
    def rmse(y_true, y_pred):
        return K.sqrt(K.mean(K.square(y_pred - y_true), axis=-1))

    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile("adam", "mse", metrics=[rmse])
    history = model.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
    assert "rmse" in history.history


def test_set_floatx_and_epsilon_round_trip():
    old = K.epsilon()
    K.set_epsilon(1e-5)
    try:
        assert K.epsilon() == 1e-5
    finally:
        K.set_epsilon(old)
    with pytest.raises(AttributeError, match="no attribute 'not_a_k_function'"):
        _ = K.not_a_k_function


class MetricLoggingLayer(layers.Layer):
    """The tf.keras 2 "Training and evaluation" guide's layer."""

    def call(self, inputs):
        # The `aggregation` argument defines how to aggregate the per-batch values over each
        # epoch: in this case we simply average them.
        self.add_metric(K.std(inputs), name="std_of_activation", aggregation="mean")
        return inputs  # Pass-through layer.


def test_the_tf2_guides_add_metric_layer_reports_in_the_logs():
    inputs = keras.Input(shape=(12,), name="digits")
    x = layers.Dense(8, activation="relu", name="dense_1")(inputs)
    x = MetricLoggingLayer()(x)
    x = layers.Dense(8, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x_train, y_train = rng.random((64, 12)).astype("float32"), rng.integers(0, 10, 64)
    history = model.fit(x_train, y_train, batch_size=16, epochs=1, verbose=0)
    assert sorted(history.history) == ["loss", "std_of_activation"]
    assert history.history["std_of_activation"][0] > 0
    # One batch: the logged value is that batch's (fit and evaluate average over batches).
    logs = model.evaluate(x_train, y_train, batch_size=64, verbose=0, return_dict=True)
    hidden = keras.Model(inputs, model.get_layer("dense_1").output)(x_train).numpy()
    np.testing.assert_allclose(logs["std_of_activation"], hidden.std(), rtol=1e-4)


def test_predict_classes_and_tf2_compile_arguments():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", sample_weight_mode=None,
                  experimental_run_tf_function=False)
    x = np.random.default_rng(0).random((5, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict_classes(x), model.predict(x).argmax(-1))
    binary = keras.Sequential([keras.Input((3,)), layers.Dense(1, activation="sigmoid")])
    assert binary.predict_classes(x).shape == (5, 1)
    with pytest.raises(TypeError, match="target_tensors"):
        model.compile("adam", "mse", target_tensors=[])


def test_backend_helpers_keep_tf_keras_2_defaults():
    """K.argmax/argmin reduce the last axis and K.cumsum/cumprod run down axis 0, as tf.keras 2
    did (Keras 3's ops default to the flattened tensor)."""
    K = keras.backend
    x = np.array([[1, 5, 2], [7, 0, 3]], "float32")
    np.testing.assert_array_equal(np.asarray(K.argmax(x)), [1, 0])
    np.testing.assert_array_equal(np.asarray(K.argmin(x)), [0, 1])
    np.testing.assert_allclose(np.asarray(K.cumsum(x)), np.cumsum(x, axis=0))
    np.testing.assert_allclose(np.asarray(K.cumprod(x)), np.cumprod(x, axis=0))
