"""The only changes made to the guides' code before it runs: (old, new) pairs, applied by
run_guide.py, each of which must match exactly once. Every new text carries a
`# [harness]` comment saying why. Kinds of change:

- data cut / fewer epochs / fewer steps: the guides train on full MNIST for several epochs;
  on two shared cores the test must finish in about a minute.
- download stand-in: a dataset webkeras does not ship (CIFAR-10) is replaced by random
  arrays of the same shapes and dtypes.
- section cut (`cut(first, last)`): a section that needs another framework's API (a
  `tf.data.Dataset`, a torch `DataLoader`) is left out, from its first line to its last.
"""

import re


def cut(first, last, why):
    """The edit that leaves out the lines from the one starting with `first` to the first
    one after it starting with `last`, both included."""
    pattern = re.compile(
        "^" + re.escape(first) + ".*?^" + re.escape(last) + "[^\n]*\n", re.S | re.M)
    return pattern, f"# [harness] section cut: {why}\n"


MNIST_CUT = (
    "\n# [harness] data cut: the first 2,000 / 500 samples\n"
    "(x_train, y_train), (x_test, y_test) = "
    "(x_train[:2000], y_train[:2000]), (x_test[:500], y_test[:500])\n"
)

# The flattened-MNIST start two guides share: the data cut, and reshapes of any length.
MNIST_MLP_EDITS = [
    ("(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n",
     "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n" + MNIST_CUT),
    ("x_train = x_train.reshape(60000, 784)",
     "# [harness] data cut: any number of samples\nx_train = x_train.reshape(-1, 784)"),
    ("x_test = x_test.reshape(10000, 784)",
     "# [harness] data cut: any number of samples\nx_test = x_test.reshape(-1, 784)"),
]

CIFAR_STANDIN = (
    "# [harness] download stand-in: CIFAR-10 is not shipped; random data of its shapes\n"
    "(x_train, y_train), (x_test, y_test) = (\n"
    "    (np.random.randint(0, 256, (200, 32, 32, 3)).astype(\"uint8\"),\n"
    "     np.random.randint(0, 10, (200, 1)).astype(\"uint8\")),\n"
    "    (np.random.randint(0, 256, (50, 32, 32, 3)).astype(\"uint8\"),\n"
    "     np.random.randint(0, 10, (50, 1)).astype(\"uint8\")),\n"
    ")\n"
)

KERAS3_IMPORTS = (
    "# [harness] Keras 3 imports, as the example's Keras 3 edition has them\n"
    "import keras\nfrom keras import layers\n"
)

# `keras.utils.plot_model` to a PNG needs Graphviz's `dot` program (Keras: pydot + Graphviz),
# which is not installed here; DOT text needs neither.
NO_GRAPHVIZ = "  # [harness] Graphviz is not installed: the graph is written as DOT text"


def plot_to_dot(png_name, rest=")"):
    """The edit that makes `plot_model(model, "NAME.png"...)` write NAME.dot instead."""
    return (f'"{png_name}.png"{rest}\n', f'"{png_name}.dot"{rest}{NO_GRAPHVIZ}\n')


def imdb_cut(load_call, train, val):
    """The edit that keeps the first `train` / `val` IMDB reviews after `load_call`."""
    return (load_call,
            load_call + f"\n# [harness] data cut: the first {train:,} / {val:,} reviews\n"
            f"(x_train, y_train), (x_val, y_val) = "
            f"(x_train[:{train}], y_train[:{train}]), (x_val[:{val}], y_val[:{val}])")

NEEDS_TF = "needs TensorFlow (tf.data), which webkeras does not use"
NEEDS_TORCH = "needs PyTorch (torch.utils.data), which webkeras does not use"

EDITS = {
    "mnist_convnet": [
        ("from tensorflow import keras\nfrom tensorflow.keras import layers\n",
         "# [harness] Keras 3 imports, as the example's Keras 3 edition has them\n"
         "import keras\nfrom keras import layers\n"),
        ("(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n",
         "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n"
         + MNIST_CUT),
        ("epochs = 15\n", "epochs = 2  # [harness] epochs\n"),
    ],
    "transfer_learning": [
        ("import tensorflow_datasets as tfds\nimport matplotlib.pyplot as plt\n",
         "# [harness] the end-to-end example that needs these is cut below\n"),
        cut("tfds.disable_progress_bar()", "model.evaluate(test_ds)",
            "the cats-vs-dogs example needs tensorflow_datasets (a download), tf.data and "
            "keras.applications.Xception with ImageNet weights (a download)"),
    ],
    "intro_to_keras_for_engineers": [
        ("(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n",
         "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n"
         "# [harness] data cut: the first 600 / 200 samples\n"
         "(x_train, y_train), (x_test, y_test) = "
         "(x_train[:600], y_train[:600]), (x_test[:200], y_test[:200])\n"),
        ("epochs = 20\n", "epochs = 2  # [harness] epochs\n"),
        cut("import torch\n", "model.fit(train_dataloader", NEEDS_TORCH),
        cut("import tensorflow as tf\n", "model.fit(train_dataset", NEEDS_TF),
    ],
    "working_with_rnns": [
        ("import tensorflow as tf\n",
         "# [harness] the sections that call TensorFlow (tf.device, tf.nest) are cut below\n"),
        ("(x_train, y_train), (x_test, y_test) = mnist.load_data()\n",
         "(x_train, y_train), (x_test, y_test) = mnist.load_data()\n" + MNIST_CUT),
        cut("import matplotlib.pyplot as plt", "    plt.imshow(", NEEDS_TF + " (and matplotlib)"),
        cut("@keras.saving.register_keras_serializable()\nclass NestedCell",
            "model.fit(input_data, target_data", NEEDS_TF + " (tf.TensorShape, tf.nest)"),
    ],
    "training_with_built_in_methods": [
        ("import torch\nimport tensorflow as tf\n",
         "# [harness] the tf.data / torch DataLoader sections are cut below\n"),
        *MNIST_MLP_EDITS,
        ("x_val = x_train[-10000:]\ny_val = y_train[-10000:]\n"
         "x_train = x_train[:-10000]\ny_train = y_train[:-10000]\n",
         "# [harness] data cut: 500 of the 2,000 samples for validation\n"
         "x_val = x_train[-500:]\ny_val = y_train[-500:]\n"
         "x_train = x_train[:-500]\ny_train = y_train[:-500]\n"),
        ("    batch_size=64,\n    epochs=2,\n    # We pass some",
         "    batch_size=64,\n    epochs=1,  # [harness] epochs\n    # We pass some"),
        ("model.fit(x_train, y_train, batch_size=64, epochs=3)",
         "model.fit(x_train, y_train, batch_size=64, epochs=1)  # [harness] epochs"),
        ("    epochs=20,\n", "    epochs=3,  # [harness] epochs\n"),
        cut("# First, let's create a training Dataset instance.", "    validation_steps=10,\n)",
            NEEDS_TF),
        cut("class ExampleTorchDataset(torch.utils.data.Dataset):",
            "model.evaluate(val_dataloader)", NEEDS_TORCH),
        cut("# Create a Dataset that includes sample weights", "model.fit(train_dataset",
            NEEDS_TF),
        cut("train_dataset = tf.data.Dataset.from_tensor_slices(\n    (",
            "model.fit(train_dataset", NEEDS_TF),
        plot_to_dot("multi_input_and_output_model", ", show_shapes=True)"),
    ],
    "functional_api": [
        *MNIST_MLP_EDITS,
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
        plot_to_dot("my_first_model"),
        plot_to_dot("my_first_model_with_shape_info", ", show_shapes=True)"),
        plot_to_dot("multi_input_and_output_model", ", show_shapes=True)"),
        plot_to_dot("mini_resnet", ", show_shapes=True)"),
        ("vgg19 = keras.applications.VGG19()",
         "vgg19 = keras.applications.VGG19(weights=None)  # [harness] download stand-in: "
         "ImageNet weights are a download; random ones"),
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
    "antirectifier": [
        ("(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n",
         "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n"
         + MNIST_CUT),
        ("epochs = 20\n", "epochs = 2  # [harness] epochs\n"),
    ],
    "text_classification_with_transformer": [
        imdb_cut("keras.datasets.imdb.load_data(num_words=vocab_size)", 1000, 200),
        ("batch_size=32, epochs=2,", "batch_size=32, epochs=1,  # [harness] epochs\n   "),
    ],
    "bidirectional_lstm_imdb": [
        ("from tensorflow import keras\nfrom tensorflow.keras import layers\n", KERAS3_IMPORTS),
        imdb_cut("keras.datasets.imdb.load_data(\n    num_words=max_features\n)", 320, 64),
        ("batch_size=32, epochs=2,", "batch_size=32, epochs=1,  # [harness] epochs\n   "),
    ],
    "addition_rnn": [
        ("from tensorflow import keras\nfrom tensorflow.keras import layers\n", KERAS3_IMPORTS),
        ("TRAINING_SIZE = 50000\n", "TRAINING_SIZE = 2000  # [harness] data cut\n"),
        ("dtype=np.bool)\ny = np.zeros", "dtype=bool)  # [harness] NumPy 2 removed np.bool\n"
         "y = np.zeros"),
        ("len(chars)), dtype=np.bool)\nfor", "len(chars)), dtype=bool)  # [harness] np.bool\nfor"),
        ("epochs = 30\n", "epochs = 2  # [harness] epochs: one iteration of the loop\n"),
    ],
    "autoencoder": [
        ("import tensorflow as tf\nimport matplotlib.pyplot as plt\n\n"
         "from tensorflow.keras.models import Model\n"
         "from tensorflow.keras.layers import Conv2D, MaxPooling2D, Input, UpSampling2D\n"
         "from tensorflow.keras.datasets import mnist\n",
         "# [harness] Keras 3 imports; matplotlib (not installed) is only used by display()\n"
         "from keras.models import Model\n"
         "from keras.layers import Conv2D, MaxPooling2D, Input, UpSampling2D\n"
         "from keras.datasets import mnist\n"),
        (re.compile(r"^    n = 10\n.*?^    plt\.show\(\)\n", re.S | re.M),
         "    pass  # [harness] section cut: the plot needs matplotlib, not installed here\n"),
        ("(train_dataset, _), (test_dataset, _) = mnist.load_data()\n",
         "(train_dataset, _), (test_dataset, _) = mnist.load_data()\n"
         "# [harness] data cut: the first 1,000 / 200 images\n"
         "train_dataset, test_dataset = train_dataset[:1000], test_dataset[:200]\n"),
        ("    epochs=50,\n", "    epochs=1,  # [harness] epochs\n"),
        ("    epochs=100,\n", "    epochs=1,  # [harness] epochs\n"),
    ],
    "image_classification_with_vision_transformer": [
        ("import matplotlib.pyplot as plt\n",
         "# [harness] the matplotlib plots (not installed here) are cut below\n"),
        ("(x_train, y_train), (x_test, y_test) = keras.datasets.cifar100.load_data()\n",
         "# [harness] download stand-in: CIFAR-100 is not here; random data of its shapes\n"
         "(x_train, y_train), (x_test, y_test) = (\n"
         "    (np.random.randint(0, 256, (200, 32, 32, 3)).astype(\"uint8\"),\n"
         "     np.random.randint(0, 100, (200, 1)).astype(\"int64\")),\n"
         "    (np.random.randint(0, 256, (50, 32, 32, 3)).astype(\"uint8\"),\n"
         "     np.random.randint(0, 100, (50, 1)).astype(\"int64\")),\n"
         ")\n"),
        ("batch_size = 256\n", "batch_size = 64  # [harness] data cut\n"),
        ("num_epochs = 10 ", "num_epochs = 1  # [harness] epochs\n"),
        ("transformer_layers = 8\n", "transformer_layers = 2  # [harness] model cut\n"),
        ("    2048,\n    1024,\n]", "    64,  # [harness] model cut: 2048, 1024 units\n    32,\n]"),
        ("plt.figure(figsize=(4, 4))\nimage = ",
         "# [harness] the plot of the image is cut: matplotlib is not installed\nimage = "),
        ("plt.imshow(image.astype(\"uint8\"))\nplt.axis(\"off\")\n", ""),
        cut("n = int(np.sqrt(", "    plt.axis(\"off\")", "matplotlib is not installed"),
        cut("def plot_history(item):", "plot_history(\"top-5-accuracy\")",
            "matplotlib is not installed"),
    ],
}
