"""Live round trip: webkeras writes `.keras`, `.weights.h5` and `.h5`; real Keras 3 (in
`.venv-peers`) loads them and predicts what webkeras predicts. Run with `make interop`."""

import os
import subprocess
import sys

import numpy as np
import pytest
import webkeras as keras

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS_PY = os.path.join(ROOT, ".venv-peers", "bin", "python")
REF = os.path.join(ROOT, "tests", "reference", "saving")
NAMES = ["mlp", "cnn", "embed_lstm", "gru_rnn", "functional", "deconv"]
TOL = 1e-5

pytestmark = pytest.mark.skipif(
    not os.path.exists(PEERS_PY),
    reason=f"real Keras is not installed ({PEERS_PY} is absent; `make peers-venv`)")

# Runs under real Keras: prints the max |keras - webkeras| per file. Legacy `.h5` loads
# with compile=False: Keras 3.15 cannot recompile its own legacy files (loss "mse" fails
# with "Could not deserialize 'keras.metrics.mse'").
CHECK = r"""
import sys, warnings
import numpy as np
warnings.simplefilter("ignore")
import keras
out, ref = sys.argv[1], sys.argv[2]
for name in sys.argv[3:]:
    data = np.load(f"{out}/{name}.npz")
    xs = [data[k] for k in sorted(data) if k.startswith("x")]
    ys = [data[k] for k in sorted(data) if k.startswith("y")]
    def err(model):
        p = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        p = p if isinstance(p, (list, tuple)) else [p]
        return max(float(np.abs(np.asarray(a) - b).max()) for a, b in zip(p, ys))
    m = keras.models.load_model(f"{out}/{name}.keras")
    errors = [err(m), int(m.optimizer.iterations)]
    errors.append(err(keras.models.load_model(f"{out}/{name}.h5", compile=False)))
    fresh = keras.models.load_model(f"{ref}/{name}.keras")
    fresh.load_weights(f"{out}/{name}.weights.h5")
    errors.append(err(fresh))
    print(name, *errors)
"""


def test_real_keras_reads_webkeras_files(tmp_path):
    rng = np.random.default_rng(7)
    for name in NAMES:
        model = keras.models.load_model(os.path.join(REF, f"{name}.keras"))
        xs = [np.asarray(d) for k, d in sorted(np.load(os.path.join(REF, f"{name}.npz")).items())
              if k.startswith("x")]
        # Train one more step so the files differ from the reference ones.
        ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        ys = ys if isinstance(ys, (list, tuple)) else [ys]
        targets = [np.asarray(y) + rng.standard_normal(np.shape(y)).astype("float32")
                   for y in ys]
        model.fit(xs if len(xs) > 1 else xs[0], targets if len(targets) > 1 else targets[0],
                  epochs=1, batch_size=3, verbose=0)
        preds = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        preds = preds if isinstance(preds, (list, tuple)) else [preds]
        model.save(tmp_path / f"{name}.keras")
        model.save(tmp_path / f"{name}.h5")
        model.save_weights(tmp_path / f"{name}.weights.h5")
        arrays = {f"x{i}": x for i, x in enumerate(xs)}
        arrays.update({f"y{i}": np.asarray(p) for i, p in enumerate(preds)})
        np.savez(tmp_path / f"{name}.npz", **arrays)
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([PEERS_PY, "-c", CHECK, str(tmp_path), REF, *NAMES],
                            check=False, capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split() for line in result.stdout.splitlines() if line.split()[:1] in
            [[n] for n in NAMES]]
    assert [row[0] for row in rows] == NAMES
    for name, keras_err, iterations, h5_err, weights_err in rows:
        sys.stdout.write(f"{name}: .keras {keras_err} .h5 {h5_err} .weights.h5 {weights_err}\n")
        assert float(keras_err) <= TOL and float(h5_err) <= TOL and float(weights_err) <= TOL
        assert int(iterations) == 2
