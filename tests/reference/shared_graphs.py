"""Models that share layers with other models, built with any Keras (Keras 3 for
make_shared_graphs_reference.py, webkeras in the tests).

Keras 3 numbers a layer's calls per model in a saved config, so each of these models refers
to its shared layers' calls by indices that differ from the layers' global call counts:
the encoder / decoder of the Keras autoencoder tutorial, a layer shared by two models (twice
in the second), a model used standalone and nested in two others (once as an output), a
nested Sequential, and two layers shared at different depths (A(B(A(B(x))))).
"""

NAMES = ["autoencoder", "encoder", "decoder", "model_a", "model_b", "tower", "outer1",
         "outer2", "seq_block", "outer3", "deep"]


def build_all(keras):
    """{name: model} for NAMES, built together so that they share layers."""
    layers, Input, Model = keras.layers, keras.Input, keras.Model
    models = {}

    img = Input((12,), name="img")
    encoded = layers.Dense(4, activation="relu", name="encode")(img)
    decoded = layers.Dense(12, activation="sigmoid", name="decode")(encoded)
    models["autoencoder"] = Model(img, decoded, name="autoencoder")
    models["encoder"] = Model(img, encoded, name="encoder")
    code = Input((4,), name="code")
    decode = models["autoencoder"].layers[-1]
    models["decoder"] = Model(code, decode(code), name="decoder")

    shared = layers.Dense(6, activation="tanh", name="shared")
    a_in = Input((5,), name="a_in")
    models["model_a"] = Model(a_in, layers.Dense(2, name="a_head")(shared(a_in)),
                              name="model_a")
    b1, b2 = Input((5,), name="b1"), Input((5,), name="b2")
    merged = layers.Concatenate(name="b_merge")([shared(b1), shared(b2)])
    models["model_b"] = Model([b1, b2], layers.Dense(3, name="b_head")(merged),
                              name="model_b")

    t_in = Input((5,), name="t_in")
    tower = Model(t_in, layers.Dense(3, activation="relu", name="tower_dense")(t_in),
                  name="tower")
    models["tower"] = tower
    o1_in = Input((5,), name="o1_in")
    models["outer1"] = Model(o1_in, tower(o1_in), name="outer1")
    o2_in = Input((5,), name="o2_in")
    towered = tower(o2_in)
    models["outer2"] = Model(o2_in, [layers.Dense(1, name="o2_head")(towered), towered],
                             name="outer2")

    seq = keras.Sequential([Input((5,), name="s_in"), layers.Dense(2, name="seq_dense")],
                           name="seq_block")
    models["seq_block"] = seq
    o3_in = Input((5,), name="o3_in")
    sequenced = seq(o3_in)
    models["outer3"] = Model(o3_in, [sequenced, layers.Dense(1, name="o3_head")(sequenced)],
                             name="outer3")

    loop_a, loop_b = layers.Dense(4, name="loop_a"), layers.Dense(4, name="loop_b")
    d_in = Input((4,), name="d_in")
    models["deep"] = Model(d_in, loop_a(loop_b(loop_a(loop_b(d_in)))), name="deep")
    return models
