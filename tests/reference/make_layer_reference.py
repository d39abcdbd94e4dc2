"""Builds each layer case with real Keras 3 (JAX), fixed weights and inputs, and stores
inputs, weights and outputs in layer_reference.npz for tests/layers/test_keras_parity.py.

    KERAS_BACKEND=jax .venv-peers/bin/python tests/reference/make_layer_reference.py
"""

import json
import os

import keras
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (class name, constructor kwargs, input shapes, call kwargs, input kind)
CASES = {
    "dense": ("Dense", {"units": 3, "activation": "relu"}, [(2, 4)], {}, "float"),
    "conv1d": ("Conv1D", {"filters": 3, "kernel_size": 3, "strides": 2}, [(2, 9, 2)], {},
               "float"),
    "conv1d_causal": ("Conv1D", {"filters": 2, "kernel_size": 3, "padding": "causal",
                                 "dilation_rate": 2}, [(1, 7, 2)], {}, "float"),
    "conv2d": ("Conv2D", {"filters": 4, "kernel_size": 3}, [(2, 6, 5, 3)], {}, "float"),
    "conv2d_same_strided": ("Conv2D", {"filters": 3, "kernel_size": (3, 2), "strides": 2,
                                       "padding": "same"}, [(1, 7, 6, 2)], {}, "float"),
    "conv2d_dilated": ("Conv2D", {"filters": 2, "kernel_size": 3, "dilation_rate": 2,
                                  "padding": "same"}, [(1, 7, 7, 2)], {}, "float"),
    "conv2d_groups": ("Conv2D", {"filters": 4, "kernel_size": 2, "groups": 2},
                      [(1, 4, 4, 4)], {}, "float"),
    "conv2d_channels_first": ("Conv2D", {"filters": 3, "kernel_size": 2,
                                         "data_format": "channels_first"},
                              [(1, 2, 5, 4)], {}, "float"),
    "conv2d_transpose_same": ("Conv2DTranspose", {"filters": 3, "kernel_size": 3,
                                                  "strides": 2, "padding": "same"},
                              [(1, 3, 4, 2)], {}, "float"),
    "conv2d_transpose_valid": ("Conv2DTranspose", {"filters": 2, "kernel_size": 3,
                                                   "strides": 2}, [(1, 3, 3, 2)], {}, "float"),
    "conv2d_transpose_output_padding": ("Conv2DTranspose", {"filters": 2, "kernel_size": 3,
                                                            "strides": 2,
                                                            "output_padding": 1},
                                        [(1, 3, 3, 1)], {}, "float"),
    "separable_conv2d": ("SeparableConv2D", {"filters": 3, "kernel_size": 3,
                                             "depth_multiplier": 2, "padding": "same"},
                         [(1, 5, 5, 2)], {}, "float"),
    "depthwise_conv2d": ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2,
                                             "strides": 2}, [(1, 7, 7, 3)], {}, "float"),
    "max_pooling2d_same": ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"},
                           [(1, 6, 5, 2)], {}, "float"),
    "average_pooling2d_same": ("AveragePooling2D", {"pool_size": 3, "strides": 2,
                                                    "padding": "same"},
                               [(1, 6, 5, 2)], {}, "float"),
    "average_pooling1d": ("AveragePooling1D", {"pool_size": 2}, [(2, 7, 3)], {}, "float"),
    "global_average_pooling2d": ("GlobalAveragePooling2D", {}, [(2, 3, 4, 5)], {}, "float"),
    "batch_norm_inference": ("BatchNormalization", {}, [(4, 3)], {}, "float"),
    "batch_norm_training": ("BatchNormalization", {"axis": 1}, [(4, 3, 2)],
                            {"training": True}, "float"),
    "layer_norm": ("LayerNormalization", {}, [(2, 3, 5)], {}, "float"),
    "embedding": ("Embedding", {"input_dim": 7, "output_dim": 3}, [(2, 4)], {}, "int"),
    "simple_rnn": ("SimpleRNN", {"units": 3}, [(2, 5, 4)], {}, "float"),
    "lstm_sequences_backwards": ("LSTM", {"units": 3, "return_sequences": True,
                                          "go_backwards": True}, [(2, 4, 3)], {}, "float"),
    "lstm_state": ("LSTM", {"units": 3, "return_state": True}, [(2, 4, 3)], {}, "float"),
    "gru": ("GRU", {"units": 3}, [(2, 5, 4)], {}, "float"),
    "gru_reset_before": ("GRU", {"units": 3, "reset_after": False}, [(2, 5, 4)], {},
                         "float"),
    "gru_masked": ("GRU", {"units": 3, "return_sequences": True}, [(2, 5, 2)],
                   {"mask": np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)}, "float"),
    "bidirectional_lstm": ("Bidirectional", {"layer": {"class_name": "LSTM",
                                                       "config": {"units": 2,
                                                                  "return_sequences": True}}},
                           [(2, 4, 3)], {}, "float"),
    "time_distributed_dense": ("TimeDistributed", {"layer": {"class_name": "Dense",
                                                             "config": {"units": 2}}},
                               [(2, 3, 4)], {}, "float"),
    "multi_head_attention_causal": ("MultiHeadAttention", {"num_heads": 2, "key_dim": 3},
                                    [(2, 4, 5), (2, 4, 6)], {"use_causal_mask": True},
                                    "float"),
    "upsampling2d": ("UpSampling2D", {"size": (2, 3)}, [(1, 2, 2, 2)], {}, "float"),
    "zero_padding2d": ("ZeroPadding2D", {"padding": ((1, 2), (0, 1))}, [(1, 2, 3, 2)], {},
                       "float"),
    "cropping2d": ("Cropping2D", {"cropping": ((1, 0), (1, 1))}, [(1, 4, 4, 2)], {}, "float"),
    "permute": ("Permute", {"dims": (2, 1)}, [(2, 3, 4)], {}, "float"),
    "dot": ("Dot", {"axes": (2, 2), "normalize": True}, [(2, 3, 4), (2, 5, 4)], {}, "float"),
    "concatenate": ("Concatenate", {"axis": 1}, [(2, 3, 4), (2, 2, 4)], {}, "float"),
}
ACTIVATIONS = ["relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign",
               "swish", "silu", "gelu", "leaky_relu", "relu6", "hard_sigmoid", "exponential",
               "linear", "mish", "hard_silu", "log_softmax"]
for name in ACTIVATIONS:
    CASES[f"activation_{name}"] = ("Activation", {"activation": name}, [(2, 7)], {}, "float")

# Appended after the activations so the random draws of every earlier case stay the same.
CASES.update({
    "group_norm_groups1_2d": ("GroupNormalization", {"groups": 1}, [(3, 6)], {}, "float"),
    "group_norm_groups2_2d": ("GroupNormalization", {"groups": 2}, [(3, 6)], {}, "float"),
    "group_norm_groups2_4d": ("GroupNormalization", {"groups": 2}, [(2, 3, 4, 6)], {},
                              "float"),
    "group_norm_per_channel_4d": ("GroupNormalization", {"groups": 4}, [(2, 3, 3, 4)], {},
                                  "float"),
    "group_norm_minus1_axis1": ("GroupNormalization", {"groups": -1, "axis": 1},
                                [(2, 3, 4, 2)], {}, "float"),
    "group_norm_no_center_scale": ("GroupNormalization", {"groups": 2, "center": False,
                                                          "scale": False},
                                   [(2, 3, 3, 4)], {}, "float"),
    "group_norm_scale_only_3d": ("GroupNormalization", {"groups": 3, "center": False},
                                 [(2, 5, 6)], {}, "float"),
    "upsampling2d_bilinear": ("UpSampling2D", {"size": (2, 2), "interpolation": "bilinear"},
                              [(1, 3, 4, 2)], {}, "float"),
    "upsampling2d_bilinear_3x2": ("UpSampling2D", {"size": (3, 2),
                                                   "interpolation": "bilinear"},
                                  [(2, 3, 2, 3)], {}, "float"),
    "upsampling2d_bilinear_channels_first": ("UpSampling2D",
                                             {"size": (2, 3), "interpolation": "bilinear",
                                              "data_format": "channels_first"},
                                             [(1, 2, 3, 4)], {}, "float"),
    "upsampling2d_bilinear_single_row": ("UpSampling2D", {"size": (2, 4),
                                                          "interpolation": "bilinear"},
                                         [(1, 1, 3, 2)], {}, "float"),
})

MULTI_INPUT_ARGS = {"MultiHeadAttention"}


def build(class_name, kwargs):
    kwargs = dict(kwargs)
    if "layer" in kwargs:
        inner = kwargs["layer"]
        kwargs["layer"] = getattr(keras.layers, inner["class_name"])(**inner["config"])
    return getattr(keras.layers, class_name)(**kwargs)


def main():
    rng = np.random.default_rng(1234)
    arrays, specs = {}, {}
    for name, (class_name, kwargs, shapes, call_kwargs, kind) in CASES.items():
        if kind == "int":
            inputs = [rng.integers(0, 7, size=s).astype("int32") for s in shapes]
        else:
            inputs = [rng.uniform(-2, 2, size=s).astype("float32") for s in shapes]
        layer = build(class_name, kwargs)
        args = inputs if class_name in MULTI_INPUT_ARGS else \
            [inputs if len(inputs) > 1 else inputs[0]]
        layer(*args, **call_kwargs)
        weights = []
        for w in layer.weights:
            if "variance" in w.path:
                weights.append(rng.uniform(0.5, 1.5, size=w.shape).astype("float32"))
            else:
                weights.append(rng.normal(0, 0.5, size=w.shape).astype("float32"))
        layer.set_weights(weights)
        outputs = layer(*args, **call_kwargs)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for i, a in enumerate(inputs):
            arrays[f"{name}/input{i}"] = a
        for i, w in enumerate(weights):
            arrays[f"{name}/weight{i}"] = w
        for i, o in enumerate(outputs):
            arrays[f"{name}/output{i}"] = np.asarray(o)
        for key, value in call_kwargs.items():
            if isinstance(value, np.ndarray):
                arrays[f"{name}/call_{key}"] = value
        specs[name] = {"class_name": class_name, "kwargs": kwargs,
                       "call_kwargs": {k: v for k, v in call_kwargs.items()
                                       if not isinstance(v, np.ndarray)},
                       "array_call_kwargs": [k for k, v in call_kwargs.items()
                                             if isinstance(v, np.ndarray)],
                       "inputs_as_args": class_name in MULTI_INPUT_ARGS,
                       "weight_paths": [w.path for w in layer.weights]}
    arrays["__specs__"] = np.array(json.dumps(specs))
    arrays["__keras_version__"] = np.array(keras.__version__)
    np.savez_compressed(os.path.join(HERE, "layer_reference.npz"), **arrays)
    print(f"{len(specs)} cases, keras {keras.__version__}")


if __name__ == "__main__":
    main()
