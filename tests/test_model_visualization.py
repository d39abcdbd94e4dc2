"""keras.utils.model_to_dot / plot_model: the layer graph as DOT text, drawn by Graphviz.

The DOT text is checked by structure (boxes and edges by layer name) and drawn by the real
Graphviz: natively when its `dot` program is installed, and here always by Graphviz compiled
to WebAssembly (npm @viz-js/viz, the package the workbench tab draws with) under node.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import webkeras as keras
from webkeras.utils import model_visualization

REPO = Path(__file__).resolve().parent.parent
VIZ_JS = REPO / "node_modules" / "@viz-js" / "viz" / "dist" / "viz.js"
NODE = shutil.which("node")
# Renders stdin's DOT text to SVG; prints {status, errors, svg}.
RENDER_SCRIPT = """
import { instance } from %s;
let text = "";
for await (const chunk of process.stdin) text += chunk;
const result = (await instance()).render(text, { format: "svg" });
console.log(JSON.stringify({ status: result.status, errors: result.errors,
                             svg: result.output || "" }));
"""


def graph(dot):
    """({box id: label}, [(source id, destination id)]) of DOT text."""
    text = dot.to_string()
    boxes = dict(re.findall(r'^\s*"(\d+)" \[label=<(.*?)>, fontname', text, re.M))
    edges = re.findall(r'^\s*"(\d+)" -> "(\d+)"', text, re.M)
    return boxes, edges


def names(dot):
    """Edges as (source layer name, destination layer name)."""
    boxes, edges = graph(dot)
    name = {box: re.search(r"<b>(.*?)</b>", label).group(1) for box, label in boxes.items()}
    return sorted((name[a], name[b]) for a, b in edges)


def functional_model():
    inputs = keras.Input((8,), name="x")
    left = keras.layers.Dense(4, activation="relu", name="left")(inputs)
    right = keras.layers.Dense(4, name="right")(inputs)
    merged = keras.layers.Concatenate(name="merged")([left, right])
    head = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, name="h1"),
                             keras.layers.Dense(2, name="h2")], name="head")
    return keras.Model(inputs, [head(merged), left], name="two_heads")


def test_sequential_is_a_chain_without_its_input_box():
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(16, name="hidden"),
                              keras.layers.Dense(10, activation="softmax", name="probs")])
    dot = keras.utils.model_to_dot(model)
    boxes, _ = graph(dot)
    assert len(boxes) == 2
    assert names(dot) == [("hidden", "probs")]
    text = dot.to_string()
    assert text.startswith('digraph "G" {') and 'rankdir="TB"' in text and 'dpi="200"' in text
    assert "<b>hidden</b> (Dense)" in text


def test_functional_edges_labels_and_nested_models():
    model = functional_model()
    dot = keras.utils.model_to_dot(model, show_shapes=True, show_dtype=True,
                                   show_layer_activations=True, show_trainable=True)
    assert names(dot) == [("left", "merged"), ("merged", "head"), ("right", "merged"),
                          ("x", "left"), ("x", "right")]
    labels = dot.to_string()
    assert "Input shape: <b>[(None, 4), (None, 4)]</b>" in labels  # merged
    assert "Output shape: <b>(None, 2)</b>" in labels  # head
    assert "Activation: <b>relu</b>" in labels and "<b>Trainable</b>" in labels
    # The input box shows no input shape, a layer without weights no trainable flag.
    x_label = next(label for label in graph(dot)[0].values() if "(InputLayer)" in label)
    assert "Input shape" not in x_label and "Trainable" not in x_label

    # expand_nested: the nested Sequential becomes a cluster of its own layers, wired inside.
    nested = keras.utils.model_to_dot(model, expand_nested=True)
    assert 'subgraph "cluster_head" {' in nested.to_string()
    assert names(nested) == [("h1", "h2"), ("left", "merged"), ("merged", "h1"),
                             ("right", "merged"), ("x", "left"), ("x", "right")]


def test_subclassed_model_is_one_box_and_refusals():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__(name="tiny")
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    tiny = Tiny()
    with pytest.raises(ValueError, match="This model has not yet been built"):
        keras.utils.model_to_dot(tiny)
    tiny.build((None, 3))
    boxes, edges = graph(keras.utils.model_to_dot(tiny, show_layer_names=True))
    assert list(boxes.values())[0].count("<b>tiny</b> (Tiny)") == 1 and not edges
    model = functional_model()
    with pytest.raises(ValueError, match="`layer_range` is no longer supported"):
        keras.utils.model_to_dot(model, layer_range=["x", "left"])
    with pytest.raises(ValueError, match="Unrecognized keyword arguments: {'colour': 1}"):
        keras.utils.plot_model(model, colour=1)


def test_names_are_escaped_for_html_labels():
    inputs = keras.Input((2,), name="a<b>&c")
    dot = keras.utils.model_to_dot(keras.Model(inputs, keras.layers.Dense(1)(inputs)))
    assert "<b>a&lt;b&gt;&amp;c</b>" in dot.to_string()


def test_plot_model_writes_dot_text_without_graphviz(tmp_path):
    model = functional_model()
    keras.utils.plot_model(model, to_file=tmp_path / "model.dot", show_shapes=True)
    written = (tmp_path / "model.dot").read_text()
    assert "Output shape: <b>(None, 2)</b>" in written and "<b>merged</b>" not in written
    # plot_model's default is show_layer_names=False (Keras 3): boxes name the class only.
    assert "<b>Concatenate</b>" in written


@pytest.mark.skipif(shutil.which("dot") is not None, reason="Graphviz is installed here")
def test_plot_model_image_without_graphviz_says_what_to_install(tmp_path):
    with pytest.raises(ImportError) as error:
        keras.utils.plot_model(functional_model(), to_file=tmp_path / "model.png")
    message = str(error.value)
    assert "You must install graphviz" in message and "`dot` program" in message
    assert "to_file='model.dot'" in message
    assert not (tmp_path / "model.png").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_plot_model_draws_png_with_graphviz(tmp_path):
    keras.utils.plot_model(functional_model(), to_file=tmp_path / "model.png", dpi=50)
    assert (tmp_path / "model.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.skipif(NODE is None or not VIZ_JS.exists(),
                    reason="node or node_modules/@viz-js/viz missing (make setup)")
def test_graphviz_in_wasm_draws_the_dot_text():
    dot = model_visualization.model_to_dot(functional_model(), show_shapes=True,
                                           expand_nested=True, show_trainable=True)
    script = RENDER_SCRIPT % json.dumps(VIZ_JS.as_uri())
    result = subprocess.run([NODE, "--input-type=module", "-e", script], input=dot.to_string(),
                            capture_output=True, text=True, timeout=120, check=True)
    drawn = json.loads(result.stdout)
    assert drawn["status"] == "success", drawn["errors"]
    assert not [e for e in drawn["errors"] if e["level"] == "error"], drawn["errors"]
    texts = re.findall(r"<text[^>]*>(.*?)</text>", drawn["svg"])
    for name in ("x", "left", "right", "merged", "h1", "h2"):
        assert name in texts, texts
    assert drawn["svg"].count('class="edge"') == 6
