"""Optimizers: Keras 3 update rules, run as fused in-place backend updates."""

from webkeras import ops
from webkeras.backend import Variable, get_backend


class Optimizer:
    """Base class. Subclasses create slot variables in `build` and update in `update_step`."""

    def __init__(self, learning_rate=0.001, name=None, **kwargs):
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        for unsupported in ("clipnorm", "clipvalue", "global_clipnorm", "weight_decay"):
            if kwargs.get(unsupported) is not None:
                raise NotImplementedError(f"`{unsupported}` is not supported yet.")
            kwargs.pop(unsupported, None)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to "
                            f"{type(self).__name__}: {kwargs}")
        self.learning_rate = float(learning_rate)
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._slots = {}

    def _slot(self, variable, kind):
        key = (variable._uid, kind)
        if key not in self._slots:
            self._slots[key] = Variable(ops.zeros(variable.shape, variable.dtype),
                                        trainable=False, name=f"{variable.name}_{kind}")
        return self._slots[key]

    @property
    def variables(self):
        return list(self._slots.values())

    def apply_gradients(self, grads_and_vars):
        grads_and_vars = [(g, v) for g, v in grads_and_vars if g is not None]
        self.iterations += 1
        backend = get_backend()
        for grad, variable in grads_and_vars:
            grad = ops.cast(ops.convert_to_tensor(grad), variable.dtype)
            if grad.shape != variable.shape:
                raise ValueError(f"Gradient shape {grad.shape} does not match variable "
                                 f"'{variable.path}' of shape {variable.shape}.")
            self.update_step(backend, grad, variable)

    def apply(self, grads, trainable_variables):
        self.apply_gradients(zip(grads, trainable_variables))

    def update_step(self, backend, grad, variable):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "learning_rate": self.learning_rate}


class SGD(Optimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: {momentum}")
        self.momentum = float(momentum)
        self.nesterov = nesterov

    def update_step(self, backend, grad, variable):
        velocity = self._slot(variable, "momentum").data if self.momentum else None
        backend.sgd_update(variable.data, grad.data, velocity, self.learning_rate,
                           self.momentum, self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if amsgrad:
            raise NotImplementedError("Adam(amsgrad=True) is not supported yet.")
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def update_step(self, backend, grad, variable):
        m = self._slot(variable, "momentum")
        v = self._slot(variable, "velocity")
        backend.adam_update(variable.data, grad.data, m.data, v.data, self.learning_rate,
                            self.beta_1, self.beta_2, self.epsilon, self.iterations)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": False}


_BY_NAME = {"sgd": SGD, "adam": Adam}


def get(identifier):
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. "
        f"Expected one of {sorted(_BY_NAME)} (case-insensitive) or an Optimizer instance."
    )
