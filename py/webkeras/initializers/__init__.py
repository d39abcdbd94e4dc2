"""Weight initializers by name, class or instance (Keras 3 names and defaults)."""

import math

import numpy as np

from webkeras import ops
from webkeras.random.distributions import truncated_normal_values
from webkeras.utils import random_state, serialization_lib


class Initializer:
    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    def __call__(self, shape, dtype="float32"):
        return ops.zeros(shape, dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype="float32"):
        return ops.ones(shape, dtype)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype="float32"):
        return ops.full(shape, self.value, dtype)

    def get_config(self):
        return {"value": self.value}


def _fans(shape):
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(Initializer):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode!r}. "
                             "Expected fan_in, fan_out or fan_avg.")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}.")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, fan)
        rng = random_state.make_rng(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            values = rng.uniform(-limit, limit, size=shape)
        elif self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978
            values = truncated_normal_values(rng, shape, stddev)
        else:
            values = rng.normal(0.0, math.sqrt(scale), size=shape)
        return ops.convert_to_tensor(np.asarray(values, dtype=dtype))

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class GlorotUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype="float32"):
        rng = random_state.make_rng(self.seed)
        return ops.convert_to_tensor(rng.normal(self.mean, self.stddev, shape).astype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype="float32"):
        rng = random_state.make_rng(self.seed)
        return ops.convert_to_tensor(rng.uniform(self.minval, self.maxval, shape).astype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class LecunUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal values more than two standard deviations from the mean are redrawn."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype="float32"):
        rng = random_state.make_rng(self.seed)
        values = self.mean + truncated_normal_values(rng, shape, self.stddev)
        return ops.convert_to_tensor(np.asarray(values, dtype=dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal matrix, times gain."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype="float32"):
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows = math.prod(shape[:-1])
        cols = shape[-1]
        rng = random_state.make_rng(self.seed)
        flat = rng.normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return ops.convert_to_tensor(np.asarray(self.gain * q.reshape(shape), dtype=dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype="float32"):
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        return ops.convert_to_tensor(np.asarray(self.gain * np.eye(*shape), dtype=dtype))

    def get_config(self):
        return {"gain": self.gain}


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "variance_scaling": VarianceScaling, "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal, "truncated_normal": TruncatedNormal,
    "orthogonal": Orthogonal, "identity": Identity,
}
# Keras also accepts the short and legacy class names.
_ALIASES = {"OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity,
            "uniform": RandomUniform, "normal": RandomNormal, "one": Ones, "zero": Zeros}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _BY_NAME.values()}
_BY_CLASS_NAME.update({k: v for k, v in _ALIASES.items() if k[0].isupper()})


def get(identifier):
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, str):
        cls = (_BY_NAME.get(identifier.lower()) or _BY_CLASS_NAME.get(identifier)
               or _ALIASES.get(identifier))
        if cls is not None:
            return cls()
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_CLASS_NAME:
        return _BY_CLASS_NAME[identifier["class_name"]].from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    # Keras's wording; the known names are listed after it to say how to fix it.
    raise ValueError(f"Could not interpret initializer identifier: {identifier}. "
                     f"Known names: {sorted(_BY_NAME)}.")


def serialize(initializer):
    if isinstance(initializer, Initializer):
        return {"module": "keras.initializers", "class_name": type(initializer).__name__,
                "config": initializer.get_config(), "registered_name": None}
    return getattr(initializer, "__name__", None)


serialization_lib.register_namespace(("keras.initializers",), objects=_BY_CLASS_NAME)
