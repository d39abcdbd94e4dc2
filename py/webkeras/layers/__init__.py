"""keras.layers."""

# ruff: noqa: F401  (re-exports)
from webkeras.layers.activations.activation_layers import (
    ELU,
    LeakyReLU,
    ReLU,
    Softmax,
)
from webkeras.layers.attention.multi_head_attention import MultiHeadAttention
from webkeras.layers.convolutional.base_conv import Conv1D, Conv2D, Conv3D
from webkeras.layers.convolutional.conv_transpose import (
    Conv1DTranspose,
    Conv2DTranspose,
)
from webkeras.layers.convolutional.depthwise_separable import (
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from webkeras.layers.core.activation import Activation
from webkeras.layers.core.dense import Dense
from webkeras.layers.core.embedding import Embedding, Masking
from webkeras.layers.core.lambda_layer import Lambda
from webkeras.layers.input_layer import Input, InputLayer
from webkeras.layers.input_spec import InputSpec
from webkeras.layers.keras_tensor import KerasTensor
from webkeras.layers.layer import Layer
from webkeras.layers.merging.base_merge import Merge
from webkeras.layers.merging.concatenate import Concatenate, concatenate
from webkeras.layers.merging.dot import Dot, dot
from webkeras.layers.merging.merge import (
    Add,
    Average,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    maximum,
    minimum,
    multiply,
    subtract,
)
from webkeras.layers.normalization.batch_normalization import BatchNormalization
from webkeras.layers.normalization.group_normalization import GroupNormalization
from webkeras.layers.normalization.layer_normalization import LayerNormalization
from webkeras.layers.pooling.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)
from webkeras.layers.preprocessing.image_layers import Rescaling, Resizing
from webkeras.layers.preprocessing.normalization import Normalization
from webkeras.layers.preprocessing.random_image import RandomFlip, RandomRotation, RandomZoom
from webkeras.layers.regularization.activity_regularization import ActivityRegularization
from webkeras.layers.regularization.dropout import (
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
)
from webkeras.layers.reshaping.flatten import Flatten
from webkeras.layers.reshaping.reshape import Permute, RepeatVector, Reshape
from webkeras.layers.reshaping.spatial import (
    Cropping1D,
    Cropping2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from webkeras.layers.rnn.bidirectional import Bidirectional
from webkeras.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell
from webkeras.layers.rnn.layers import GRU, LSTM, SimpleRNN
from webkeras.layers.rnn.rnn import RNN
from webkeras.layers.rnn.time_distributed import TimeDistributed
from webkeras.layers.serialization import register_builtin_layers
from webkeras.utils import serialization_lib


def serialize(layer):
    """A layer's config as Keras 3 writes it (`{"module", "class_name", "config",
    "registered_name"}`); `keras.layers.deserialize` turns it back into a layer."""
    return serialization_lib.serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """The layer a `keras.layers.serialize` config (or a tf.keras 2 `{"class_name",
    "config"}` dict) describes; custom classes come from `custom_objects` or the registry."""
    return serialization_lib.deserialize_keras_object(config, custom_objects=custom_objects)


register_builtin_layers(dict(globals()))
