"""`keras.applications` against real Keras 3 (in `.venv-peers`): Keras builds each
architecture with weights=None under a fixed seed, randomizes the batch-normalization
statistics, and saves `.weights.h5`, the legacy `.h5` its ImageNet files use, and its
predictions; webkeras builds the same architecture from each file and must match the layer
names, the parameter count and the predictions. Run with `make interop`."""

import inspect
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import webkeras as keras
from webkeras import applications

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS_PY = os.path.join(ROOT, ".venv-peers", "bin", "python")
RTOL = 1e-4
# (case id, constructor, keyword arguments): each at the smallest input it accepts or close.
CASES = [
    ("vgg16", "VGG16", {"include_top": False, "input_shape": (32, 32, 3), "pooling": "max"}),
    ("vgg19", "VGG19", {"input_shape": (32, 32, 3), "classes": 10}),
    ("resnet50", "ResNet50", {"input_shape": (32, 32, 3), "classes": 7}),
    ("resnet101", "ResNet101", {"include_top": False, "input_shape": (32, 32, 3),
                                "pooling": "avg"}),
    ("resnet152", "ResNet152", {"include_top": False, "input_shape": (32, 32, 3)}),
    ("resnet50v2", "ResNet50V2", {"input_shape": (32, 32, 3), "classes": 5}),
    ("mobilenet", "MobileNet", {"input_shape": (32, 32, 3), "classes": 6, "alpha": 0.5}),
    ("mobilenet_v2", "MobileNetV2", {"input_shape": (48, 48, 3), "classes": 6}),
    ("xception", "Xception", {"include_top": False, "input_shape": (71, 71, 3),
                              "pooling": "avg"}),
]

CONSTRUCTORS = sorted({c[1] for c in CASES} | {"ResNet101V2", "ResNet152V2"})

pytestmark = pytest.mark.skipif(
    not os.path.exists(PEERS_PY),
    reason=f"real Keras is not installed ({PEERS_PY} is absent; `make peers-venv`)")

# Runs under real Keras: writes <case>.weights.h5, <case>.h5 (the legacy layout of Keras's
# ImageNet files), <case>.npz (input x, prediction y) and <case>.json (names, parameters).
MAKE_REFERENCE = r"""
import inspect, json, sys
import h5py
import numpy as np
import keras
from keras.src.legacy.saving import legacy_h5_format
out = sys.argv[1]
with open(f"{out}/signatures.json", "w") as f:
    json.dump({name: str(inspect.signature(getattr(keras.applications, name)))
               for name in json.loads(sys.argv[3])}, f)
for case, constructor, kwargs in json.loads(sys.argv[2]):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    if "input_shape" in kwargs:
        kwargs["input_shape"] = tuple(kwargs["input_shape"])
    model = getattr(keras.applications, constructor)(weights=None, **kwargs)
    rng = np.random.default_rng(1)
    # Moving statistics away from their initial 0 and 1, so that loading them is checked.
    for variable in model.non_trainable_weights:
        low, high = (-0.2, 0.2) if "mean" in variable.path else (0.5, 1.5)
        variable.assign(rng.uniform(low, high, variable.shape).astype("float32"))
    x = rng.uniform(-1, 1, (2,) + model.input_shape[1:]).astype("float32")
    np.savez(f"{out}/{case}.npz", x=x, y=np.asarray(model.predict(x, verbose=0)))
    model.save_weights(f"{out}/{case}.weights.h5")
    with h5py.File(f"{out}/{case}.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    with open(f"{out}/{case}.json", "w") as f:
        json.dump({"name": model.name, "layers": [layer.name for layer in model.layers],
                   "params": model.count_params()}, f)
    print(case, flush=True)
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("applications")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([PEERS_PY, "-c", MAKE_REFERENCE, str(out), json.dumps(CASES),
                             json.dumps(CONSTRUCTORS)],
                            check=False, capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_signatures_are_keras_signatures(reference):
    with open(reference / "signatures.json") as f:
        expected = json.load(f)
    got = {name: str(inspect.signature(getattr(applications, name)))
           for name in CONSTRUCTORS}
    assert got == expected


def relative_error(got, expected):
    return float(np.abs(got - expected).max() / max(np.abs(expected).max(), 1e-12))


@pytest.mark.parametrize("case,constructor,kwargs", CASES, ids=[c[0] for c in CASES])
def test_webkeras_loads_real_keras_weights(reference, case, constructor, kwargs):
    with open(reference / f"{case}.json") as f:
        expected = json.load(f)
    data = np.load(reference / f"{case}.npz")
    errors = []
    for suffix in (".weights.h5", ".h5"):
        keras.backend.clear_session()
        model = getattr(applications, constructor)(
            weights=str(reference / f"{case}{suffix}"), **kwargs)
        assert model.name == expected["name"]
        assert [layer.name for layer in model.layers] == expected["layers"]
        assert model.count_params() == expected["params"]
        errors.append(relative_error(np.asarray(model.predict(data["x"], verbose=0)),
                                     data["y"]))
    sys.stdout.write(f"\n{constructor} {kwargs}: params {expected['params']} equal; max "
                     f"relative prediction error .weights.h5 {errors[0]:.2e} .h5 "
                     f"{errors[1]:.2e}\n")
    assert max(errors) <= RTOL


def test_imagenet_weights_load_from_the_cache(reference, tmp_path, monkeypatch):
    # Keras's own file name for ResNet101 without its top, in the cache get_file fills.
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    shutil.copy(reference / "resnet101.h5",
                home / "models" / "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5")
    monkeypatch.setenv("WEBKERAS_HOME", str(home))
    data = np.load(reference / "resnet101.npz")
    model = applications.ResNet101(weights="imagenet", include_top=False,
                                         input_shape=(32, 32, 3), pooling="avg")
    assert relative_error(np.asarray(model.predict(data["x"], verbose=0)), data["y"]) <= RTOL
