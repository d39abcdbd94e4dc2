"""The tutorial examples in examples/ run unchanged (but for imports) and learn."""

import contextlib
import io
import re
import runpy
from pathlib import Path

import webkeras as keras

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        namespace = runpy.run_path(str(EXAMPLES / name))
    return namespace, out.getvalue()


def test_tf_data_example_with_steps_per_epoch_and_validation_steps():
    keras.utils.set_random_seed(0)
    namespace, output = run_example("tf_data_example.py")
    history = namespace["history"]
    assert history.params == {"verbose": 1, "epochs": 10, "steps": 30}
    assert len(history.history["val_loss"]) == 10
    assert output.count("30/30 ━━━━━━━━━━━━━━━━━━━━") == 12  # 10 epochs, evaluate, predict
    assert namespace["predictions"].shape == (960, 10)


def test_gradient_tape_loop_on_an_mnist_subset(monkeypatch):
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    # The example holds out the last 10,000 training images: keep them, train on 3,200.
    subset = ((x_train[-13200:], y_train[-13200:]), (x_test[:100], y_test[:100]))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: subset)
    keras.utils.set_random_seed(0)
    _, output = run_example("gradient_tape_loop.py")
    accuracies = [float(a) for a in re.findall(r"Validation acc: ([0-9.]+)", output)]
    assert len(accuracies) == 2
    assert "Training loss (for 1 batch) at step 0:" in output
    assert accuracies[-1] > 0.4  # chance is 0.1
