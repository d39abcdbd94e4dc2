"""Sequential, Functional and subclassed models: structure, config, summary, errors."""

import os
import sys

import numpy as np
import pytest
import webkeras as keras

L = keras.layers
SUMMARIES = os.path.join(os.path.dirname(__file__), "reference", "summaries")
sys.path.insert(0, SUMMARIES)
from summary_models import MODELS


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()
    yield


# -- summary: line by line against real Keras 3 ---------------------------------------------
@pytest.mark.parametrize("name", sorted(MODELS))
def test_summary_matches_keras(name, monkeypatch):
    import shutil

    # Keras reads the terminal width; the references were written at the 80-column default.
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a: os.terminal_size((80, 24)))
    model = MODELS[name](keras)
    out = []
    model.summary(print_fn=out.append)
    with open(os.path.join(SUMMARIES, f"{name}.txt"), encoding="utf-8") as f:
        expected = f.read().splitlines()
    got = "".join(out).splitlines()
    for i, (a, b) in enumerate(zip(got, expected)):
        assert a == b, f"line {i}:\n{a}\n{b}"
    assert len(got) == len(expected)
    assert "".join(out).endswith("\n")


def test_summary_of_unbuilt_subclassed_model():
    class M(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(3)

        def call(self, x):
            return self.d(x)

    out = []
    M().summary(print_fn=out.append)
    assert "│ ?                      │   0 (unbuilt) │" in out[0]
    with pytest.raises(ValueError, match="isn't built"):
        M().count_params()


# -- Sequential -------------------------------------------------------------------------------
def test_sequential_add_pop_and_lazy_build():
    model = keras.Sequential()
    model.add(L.Dense(4, input_shape=(3,)))
    model.add(L.Dense(2))
    assert model.output_shape == (None, 2) and model.count_params() == 16 + 10
    model.pop()
    assert model.output_shape == (None, 4)
    lazy = keras.Sequential([L.Dense(5), L.Dense(1)])
    assert not lazy.built
    assert lazy(np.zeros((2, 7))).shape == (2, 1)
    assert lazy.built and lazy.count_params() == 40 + 6
    with pytest.raises(TypeError, match="no layers"):
        keras.Sequential().pop()


def test_sequential_nested_and_config_round_trip():
    inner = keras.Sequential([L.Dense(3, activation="relu")], name="inner")
    model = keras.Sequential([keras.Input((4,)), inner, L.Dropout(0.1), L.Dense(2)])
    x = np.random.rand(2, 4).astype("float32")
    clone = keras.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), model(x).numpy(), rtol=1e-6)
    assert [type(layer).__name__ for layer in clone.layers] == ["Sequential", "Dropout",
                                                                 "Dense"]


# -- Functional -------------------------------------------------------------------------------
def test_multi_input_output_with_dicts_by_name():
    model = MODELS["multi_io"](keras)
    data = {"title": np.ones((2, 10)), "body": np.ones((2, 20)), "tags": np.ones((2, 4))}
    out = model(data)
    assert set(out) == {"priority", "department"}
    assert out["priority"].shape == (2, 1) and out["department"].shape == (2, 3)
    as_list = model([data["title"], data["body"], data["tags"]])
    np.testing.assert_allclose(as_list["priority"].numpy(), out["priority"].numpy())
    assert [t.name for t in model.inputs] == ["title", "body", "tags"]
    assert model.output_shape == {"priority": (None, 1), "department": (None, 3)}


def test_shared_layer_residual_and_nested_model():
    shared = L.Dense(4, name="shared")
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    merged = L.add([shared(a), shared(b), a])
    model = keras.Model([a, b], merged)
    assert len(shared._inbound_nodes) == 2
    x = np.random.rand(2, 4).astype("float32")
    expected = 2 * (x @ shared.kernel.numpy() + shared.bias.numpy()) + x
    np.testing.assert_allclose(model([x, x]).numpy(), expected, rtol=1e-5)
    outer_in = keras.Input((4,))
    outer = keras.Model(outer_in, L.Dense(1)(model([outer_in, outer_in])))
    assert outer(x).shape == (2, 1)
    assert outer.count_params() == 20 + 5


def test_functional_json_round_trip_keeps_outputs():
    model = MODELS["residual"](keras)
    clone = keras.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    x = np.random.rand(1, 32, 32, 3).astype("float32")
    np.testing.assert_allclose(clone(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]


def test_lambda_model_from_json_needs_unsafe_mode():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, L.Lambda(lambda t: t * 2.0)(inputs))
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.model_from_json(model.to_json())
    clone = keras.models.model_from_json(model.to_json(), safe_mode=False)
    np.testing.assert_allclose(clone(np.ones((1, 3))).numpy(), [[2, 2, 2]])


def test_outputs_unreachable_from_inputs():
    a, b = keras.Input((3,)), keras.Input((4,))
    with pytest.raises(ValueError, match="is not connected to `inputs`"):
        keras.Model(a, L.Dense(2)(b))


def test_unknown_class_in_json_asks_for_custom_objects():
    class Custom(L.Layer):
        def call(self, x):
            return x

    inputs = keras.Input((2,))
    json_string = keras.Model(inputs, Custom()(inputs)).to_json()
    with pytest.raises(TypeError, match="custom_objects"):
        keras.models.model_from_json(json_string)
    keras.models.model_from_json(json_string, custom_objects={"Custom": Custom})


# -- subclassing ------------------------------------------------------------------------------
class Block(keras.layers.Layer):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.stack = [L.Dense(units), L.Dense(units)]
        self.named = {"out": L.Dense(1)}

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    def call(self, x, training=False):
        for layer in self.stack:
            x = layer(x)
        if training:
            x = x * 0.0
        return self.named["out"](x) * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape[:-1] + (1,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_subclassed_tracking_training_and_freezing():
    block = Block()
    x = np.ones((2, 5), "float32")
    assert block(x).shape == (2, 1)
    assert len(block.trainable_weights) == 7
    assert np.all(block(x, training=True).numpy() == 0)
    block.stack[0].trainable = False
    assert len(block.trainable_weights) == 5 and len(block.non_trainable_weights) == 2
    block.trainable = False
    assert block.trainable_weights == []
    clone = Block.from_config(block.get_config())
    assert clone.units == 3
    assert Block()(keras.Input((5,))).shape == (None, 1)


def test_subclassed_model_trains_with_regularizer_and_constraint():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = L.Dense(4, activation="relu", kernel_regularizer="l2",
                                  kernel_constraint=keras.constraints.MaxNorm(0.5))
            self.out = L.Dense(1)

        def call(self, x):
            return self.out(self.hidden(x))

    model = Net()
    x = np.random.rand(16, 3).astype("float32")
    model(x)
    assert len(model.losses) == 1 and float(model.losses[0]) > 0
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.ones((16, 1)), epochs=1, verbose=0)
    norms = np.sqrt((model.hidden.kernel.numpy() ** 2).sum(axis=0))
    assert np.all(norms <= 0.5 + 1e-5)


def test_clear_session_resets_names():
    assert L.Dense(1).name == "dense"
    assert L.Dense(1).name == "dense_1"
    keras.backend.clear_session()
    assert L.Dense(1).name == "dense"


def test_masks_flow_through_functional_models_and_keyword_inputs():
    tokens = keras.Input((None,), dtype="int32")
    x = L.Embedding(10, 4, mask_zero=True)(tokens)
    outputs = L.LSTM(3)(x)
    model = keras.Model(tokens, outputs)
    padded = model(np.array([[3, 5, 0, 0]])).numpy()
    np.testing.assert_allclose(padded, model(np.array([[3, 5]])).numpy(), rtol=1e-6)
    mha = L.MultiHeadAttention(num_heads=1, key_dim=2)
    q = np.ones((1, 2, 3), "float32")
    assert mha(query=q, value=q).shape == (1, 2, 3)
    assert L.Dense(2)(inputs=q).shape == (1, 2, 2)


def test_summary_layer_range_prints_the_layers_between_two_names():
    model = keras.Sequential([keras.Input((4,)), L.Dense(3, name="first"), L.Dense(3, name="mid_a"),
                              L.Dense(3, name="mid_b"), L.Dense(2, name="last")])
    lines = []
    model.summary(print_fn=lines.append, layer_range=["mid", "last"])
    assert [n for n in ("first", "mid_a", "mid_b", "last") if f"{n} (Dense)" in lines[0]] == [
        "mid_a", "mid_b", "last"]
    reversed_range = []
    model.summary(print_fn=reversed_range.append, layer_range=["mid_b", "first"])
    assert "first (Dense)" in reversed_range[0] and "last (Dense)" not in reversed_range[0]
    with pytest.raises(ValueError, match="do not match the layer names"):
        model.summary(layer_range=["nothing", "last"])
    with pytest.raises(ValueError, match="length 2"):
        model.summary(layer_range=["first"])
