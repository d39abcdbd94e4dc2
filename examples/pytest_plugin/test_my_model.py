# test_my_model.py: does my model give in a browser tab what it gives natively?
#   python -m pytest test_my_model.py                            # webgpu and numpy tabs
#   python -m pytest test_my_model.py --webkeras-backend numpy   # one backend
import numpy as np

# Your model: a .keras or .h5 file, or a TF.js model folder (model.json + shards).
MODEL = "my_model.keras"


def test_tab_matches_native(assert_tab_matches_native):
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)  # your inputs
    assert_tab_matches_native(MODEL, x, atol=1e-4)


def test_predict_and_python_in_the_tab(tab):
    model = tab.load_model(MODEL)
    y = tab.predict(np.zeros((2, 28, 28, 1), np.float32))  # NumPy in, NumPy out
    assert y.shape == (2, 10)
    # Python in the tab's worker: `keras`, `np` and the loaded models are in scope.
    assert tab.run("keras.backend.backend()") == tab.backend
    assert tab.run(f"{model.python_name}.count_params()") > 0
