"""The only changes made to the guides' code before it runs: (old, new) pairs, applied by
run_guide.py, each of which must match exactly once. Every new text carries a
`# [harness]` comment saying why. Kinds of change:

- data cut / fewer epochs / fewer steps: the guides train on full MNIST for several epochs;
  on two shared cores the test must finish in about a minute.
- download stand-in: a dataset webkeras does not ship (CIFAR-10) is replaced by random
  arrays of the same shapes and dtypes.
"""

MNIST_CUT = (
    "\n# [harness] data cut: the first 2,000 / 500 samples\n"
    "(x_train, y_train), (x_test, y_test) = "
    "(x_train[:2000], y_train[:2000]), (x_test[:500], y_test[:500])\n"
)

CIFAR_STANDIN = (
    "# [harness] download stand-in: CIFAR-10 is not shipped; random data of its shapes\n"
    "(x_train, y_train), (x_test, y_test) = (\n"
    "    (np.random.randint(0, 256, (200, 32, 32, 3)).astype(\"uint8\"),\n"
    "     np.random.randint(0, 10, (200, 1)).astype(\"uint8\")),\n"
    "    (np.random.randint(0, 256, (50, 32, 32, 3)).astype(\"uint8\"),\n"
    "     np.random.randint(0, 10, (50, 1)).astype(\"uint8\")),\n"
    ")\n"
)

EDITS = {
    "functional_api": [
        ("(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n",
         "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n"
         + MNIST_CUT),
        ("x_train = x_train.reshape(60000, 784)",
         "# [harness] data cut: any number of samples\nx_train = x_train.reshape(-1, 784)"),
        ("x_test = x_test.reshape(10000, 784)",
         "# [harness] data cut: any number of samples\nx_test = x_test.reshape(-1, 784)"),
        ("batch_size=64, epochs=2, validation_split=0.2)",
         "batch_size=64, epochs=1, validation_split=0.2)  # [harness] epochs"),
        ("title_data = np.random.randint(num_words, size=(1280, 10))",
         "title_data = np.random.randint(num_words, size=(128, 10))  # [harness] data cut"),
        ("body_data = np.random.randint(num_words, size=(1280, 100))",
         "body_data = np.random.randint(num_words, size=(128, 100))  # [harness] data cut"),
        ("tags_data = np.random.randint(2, size=(1280, num_tags))",
         "tags_data = np.random.randint(2, size=(128, num_tags))  # [harness] data cut"),
        ("priority_targets = np.random.random(size=(1280, 1))",
         "priority_targets = np.random.random(size=(128, 1))  # [harness] data cut"),
        ("dept_targets = np.random.randint(2, size=(1280, num_departments))",
         "dept_targets = np.random.randint(2, size=(128, num_departments))  # [harness] data cut"),
        ("    epochs=2,\n    batch_size=32,\n",
         "    epochs=1,  # [harness] epochs\n    batch_size=32,\n"),
        ("(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()\n",
         CIFAR_STANDIN),
    ],
    "making_new_layers_and_models_via_subclassing": [
        ("(x_train, _), _ = keras.datasets.mnist.load_data()\n",
         "(x_train, _), _ = keras.datasets.mnist.load_data()\n"
         "x_train = x_train[:2000]  # [harness] data cut\n"),
        ("x_train = x_train.reshape(60000, 784)",
         "# [harness] data cut: any number of samples\nx_train = x_train.reshape(-1, 784)"),
        ("vae.fit(x_train, x_train, epochs=2, batch_size=64)",
         "vae.fit(x_train, x_train, epochs=1, batch_size=64)  # [harness] epochs"),
    ],
    "writing_your_own_callbacks": [
        ("self.best = np.Inf", "self.best = np.inf  # [harness] NumPy 2 removed np.Inf"),
        ("    epochs=30,\n", "    epochs=4,  # [harness] epochs\n"),
        ("    epochs=15,\n", "    epochs=5,  # [harness] epochs\n"),
        ("    (3, 0.05),\n",
         "    (1, 0.05),  # [harness] epochs: the schedule's steps moved earlier\n"),
        ("    (6, 0.01),\n", "    (2, 0.01),  # [harness]\n"),
        ("    (9, 0.005),\n", "    (3, 0.005),  # [harness]\n"),
        ("    (12, 0.001),\n", "    (4, 0.001),  # [harness]\n"),
    ],
}
