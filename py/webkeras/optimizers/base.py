"""The Optimizer base class: Keras 3's apply loop (clip, weight decay, update, step)."""

import re
import warnings

import numpy as np

from webkeras import ops
from webkeras.ops.tensor import Variable
from webkeras.optimizers import schedules
from webkeras.utils import naming


class Optimizer:
    """Base class (`keras.optimizers.Optimizer`).

    Subclasses list their slot variables in `_slot_groups` and implement
    `update_step(gradient, variable, learning_rate)`. The step counter and a float learning
    rate live on the host (mirrored into the `iterations` / `learning_rate` Variables when
    read), so a train step needs no readback.
    """

    # Whether update_step applies weight_decay itself (in the backend's fused update).
    _fuses_weight_decay = False

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=3)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if use_ema or gradient_accumulation_steps:
            raise NotImplementedError(
                "`use_ema` and `gradient_accumulation_steps` are not supported yet.")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        self.name = name or naming.uniquify(naming.to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._step = self._synced_step = 0
        self._iterations = Variable(0, shape=(), dtype="int32", trainable=False,
                                    name="iteration")
        self._learning_rate_variable = None
        self._set_learning_rate(learning_rate, from_init=True)
        self._slots = {}  # variable uid -> {slot name: Variable}
        self._slot_variables = []  # creation order, as Keras lists them
        self._exclude_ids, self._exclude_names = set(), None

    # -- learning rate and step ------------------------------------------------------------
    def _set_learning_rate(self, learning_rate, from_init=False):
        if isinstance(learning_rate, schedules.LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
            return
        if isinstance(self.__dict__.get("_learning_rate"), schedules.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not "
                "settable. If you need the learning rate to be settable, you should "
                "instantiate the optimizer with a float `learning_rate` argument."
            )
        try:
            value = float(np.asarray(learning_rate))
        except (TypeError, ValueError):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of "
                "LearningRateSchedule, or a callable (that takes in the current iteration "
                "value and returns the corresponding learning rate value). "
                f"Received instead: learning_rate={learning_rate!r}"
            ) from None
        # Stored as float32, as Keras's learning-rate Variable holds it.
        self._learning_rate = float(np.float32(value))
        if self.__dict__.get("_learning_rate_variable") is not None:
            Variable.assign(self._learning_rate_variable, self._learning_rate)

    def _current_learning_rate(self):
        """The learning rate this step uses, as a host float (a schedule is evaluated at
        `iterations`), so a train step never reads the variable back."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(np.float32(lr(self._step)))
        if callable(lr):
            return float(np.float32(np.asarray(lr())))
        return lr

    def _learning_rate_as_variable(self):
        if self._learning_rate_variable is None:
            self._learning_rate_variable = _LearningRateVariable(self)
        return self._learning_rate_variable

    @property
    def learning_rate(self):
        """The learning rate: a float32 Variable, as in Keras 3 (`.assign(x)`, `float()`,
        `keras.backend.set_value` work on it); with a schedule, its current value."""
        if callable(self._learning_rate):
            return self._current_learning_rate()
        return self._learning_rate_as_variable()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self._set_learning_rate(learning_rate)

    # tf.keras 2's name: `K.set_value(model.optimizer.lr, 1e-4)`.
    lr = learning_rate

    @property
    def iterations(self):
        """The number of steps applied so far, as an int32 Variable (`int()` reads it)."""
        # Synced lazily: the per-step counter stays on the host.
        if self._synced_step != self._step:
            self._iterations.assign(self._step)
            self._synced_step = self._step
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        self._step = self._synced_step = int(np.asarray(value))
        self._iterations.assign(self._step)

    # -- variables ---------------------------------------------------------------------------
    def _slot_groups(self):
        """Slot names, in groups created together: [("momentum", "velocity"), ...]."""
        return []

    def _slot_initializer(self, slot_name):
        return 0.0

    def build(self, var_list):
        for group in self._slot_groups():
            for variable in var_list:
                if variable._uid in self._slots and group[0] in self._slots[variable._uid]:
                    continue
                for slot_name in group:
                    self._add_slot(variable, slot_name)
        self.built = True

    def _add_slot(self, variable, slot_name):
        value = ops.full(variable.shape, self._slot_initializer(slot_name), variable.dtype)
        slot = Variable(value, dtype=variable.dtype, trainable=False,
                        name=f"{variable.path.replace('/', '_')}_{slot_name}")
        self._slots.setdefault(variable._uid, {})[slot_name] = slot
        self._slot_variables.append(slot)
        return slot

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        return self._add_slot(reference_variable, name or "var")

    def _get_slot(self, variable, slot_name):
        return self._slots[variable._uid][slot_name]

    @property
    def variables(self):
        extra = []
        if not callable(self._learning_rate):
            extra = [self._learning_rate_as_variable()]
        return [self.iterations] + extra + list(self._slot_variables)

    # -- applying gradients ------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            return self.iterations
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if trainable_variables is None:
            raise ValueError("Pass the variables: `optimizer.apply(grads, variables)`.")
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        if len(grads) != len(list(trainable_variables)):
            raise ValueError(f"Received {len(grads)} gradients for "
                             f"{len(list(trainable_variables))} variables.")
        if pairs:
            grads, variables = [], []
            for grad, variable in pairs:
                grad = ops.cast(ops.convert_to_tensor(grad), variable.dtype)
                if grad.shape != variable.shape:
                    raise ValueError(
                        f"Gradient shape {grad.shape} does not match variable "
                        f"'{variable.path}' of shape {variable.shape}.")
                if self.loss_scale_factor is not None:
                    grad = grad / self.loss_scale_factor
                grads.append(grad)
                variables.append(variable)
            self.build(variables)
            grads = self._clip_gradients(grads)
            learning_rate = self._current_learning_rate()
            self._apply_weight_decay(variables, learning_rate)
            self._update_all(grads, variables, learning_rate)
            for variable in variables:
                if getattr(variable, "constraint", None) is not None:
                    variable.assign(variable.constraint(variable))
        self._step += 1

    def _update_all(self, grads, variables, learning_rate):
        for grad, variable in zip(grads, variables):
            self.update_step(grad, variable, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError

    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            v = float(self.clipvalue)
            return [ops.clip(g, -v, v) for g in grads]
        return grads

    def _clip_by_norm(self, values):
        l2sum = ops.sum(ops.square(values), keepdims=True)
        l2norm = ops.sqrt(l2sum)
        return values * float(self.clipnorm) / ops.maximum(l2norm, float(self.clipnorm))

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Variables (or name substrings) that `weight_decay` leaves alone."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before "
                             "the optimizer is built.")
        self._exclude_ids = {v._uid for v in var_list or []}
        self._exclude_names = list(var_names) if var_names else None

    def _use_weight_decay(self, variable):
        if variable._uid in self._exclude_ids:
            return False
        if self._exclude_names and re.search("|".join(self._exclude_names), variable.name):
            return False
        return True

    def _weight_decay_for(self, variable):
        """The decay rate a fused update applies to `variable` (0.0: none)."""
        if self.weight_decay is None or not self._use_weight_decay(variable):
            return 0.0
        return float(self.weight_decay)

    def _apply_weight_decay(self, variables, learning_rate):
        # Optimizers whose backend update fuses the decay (`_weight_decay_for`) skip this pass.
        if self.weight_decay is None or self._fuses_weight_decay:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                variable.assign(variable - variable * float(self.weight_decay)
                                * learning_rate)

    # -- config ------------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def global_norm(values):
    total = None
    for v in values:
        s = ops.sum(ops.square(v))
        total = s if total is None else total + s
    return ops.sqrt(total)


def clip_by_global_norm(values, clip_norm):
    use_norm = global_norm(values)
    scale = float(clip_norm) * ops.minimum(1.0 / use_norm, 1.0 / float(clip_norm))
    return [v * scale for v in values]


class _LearningRateVariable(Variable):
    """`optimizer.learning_rate`: a Variable whose `assign` also sets the host float the
    train step reads, so `optimizer.learning_rate.assign(x)` and `K.set_value(opt.lr, x)`
    take effect on the next step."""

    __slots__ = ("_optimizer",)

    def __init__(self, optimizer):
        super().__init__(optimizer._learning_rate, shape=(), dtype="float32", trainable=False,
                         name="learning_rate")
        self._optimizer = optimizer

    def assign(self, value):
        self._optimizer._set_learning_rate(value)
        return self

    # Compared with a number it compares its value (`opt.learning_rate == 0.5`, or with
    # `pytest.approx`); with another tensor, identity, as every Variable.
    def __eq__(self, other):
        if isinstance(other, (int, float, np.number)):
            return float(self) == other
        if isinstance(other, Variable):
            return self is other
        return NotImplemented

    __hash__ = Variable.__hash__
