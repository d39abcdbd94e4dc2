"""Traced steps on the tab's WebGPU (#17): headless Chromium, the real server, the /train page's
Pyodide worker, WebGPU through web/gpu_bridge.js (SwiftShader here).

A replayed step is a program registered once with the bridge (its bind groups held there) and
run with one Python->JS call, one submit per program segment (a convolution on a software
adapter runs on the host between two segments). Each case trains the same model from the same
seed with `jit_compile=True` and `False` for 20 steps and compares every step's loss and the
final weights (BatchNormalization's moving statistics among them); then it counts what five
more replayed steps do: the bridge's submits and dispatches, and calls of the layers' `call`.
"""

import json
import textwrap

from webkeras.server.browser import run_python, wait_ready

STEPS = 20

TRAIN_BOTH_WAYS = textwrap.dedent(
    """
    import gc
    import json
    import numpy as np
    import webkeras as keras
    from webkeras import backend, layers
    from webkeras.trainers.webgpu_plan import DevicePlan, _Segment

    keras.backend.set_backend("webgpu")
    KIND = {kind!r}
    STEPS = {steps}


    def build():
        if KIND == "dense":
            return keras.Sequential([
                keras.Input((12,)), layers.Dense(16, activation="relu"),
                layers.BatchNormalization(), layers.Dropout(0.25),
                layers.Dense(4, activation="softmax")])
        return keras.Sequential([
            keras.Input((8, 8, 2)), layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(2), layers.Flatten(), layers.Dropout(0.2),
            layers.Dense(4, activation="softmax")])


    rng = np.random.default_rng(7)
    shape = (64, 12) if KIND == "dense" else (64, 8, 8, 2)
    x = rng.normal(size=shape).astype("float32")
    y = rng.integers(0, 4, 64)


    class StepLosses(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.losses = []

        def on_train_batch_end(self, batch, logs=None):
            self.losses.append(float(logs["loss"]))


    def train(jit_compile):
        keras.utils.set_random_seed(3)
        model = build()
        model.compile(optimizer=keras.optimizers.Adam(1e-2),
                      loss="sparse_categorical_crossentropy", jit_compile=jit_compile)
        losses = StepLosses()
        # 64 samples in batches of 16: 4 steps an epoch, 5 epochs = STEPS steps.
        model.fit(x, y, batch_size=16, epochs=STEPS // 4, shuffle=True, verbose=0,
                  callbacks=[losses])
        return model, losses.losses


    layer_calls = [0]


    def count_calls(layer):
        call = layer.call

        def counted(*args, **kwargs):
            layer_calls[0] += 1
            return call(*args, **kwargs)

        layer.call = counted


    def per_step(model, steps=5):
        # What `steps` more steps on one batch cost: bridge counters and layer calls.
        stats = backend.get_backend().driver.bridge.stats
        before = stats.to_py()
        layer_calls[0] = 0
        for _ in range(steps):
            model.train_on_batch(x[:16], y[:16])
        after = stats.to_py()
        out = {{key: (after[key] - before[key]) / steps for key in after}}
        out["layerCalls"] = layer_calls[0] / steps
        return out


    eager, eager_losses = train(False)
    traced, traced_losses = train(True)
    (plan,) = [s.plan for s in traced._step_plans._signatures.values()]
    assert isinstance(plan, DevicePlan) and plan._built, plan
    segments = [s for s in plan._built.segments if isinstance(s, _Segment)]
    for layer in eager.layers + traced.layers:
        count_calls(layer)
    result = {{
        "weights_max_diff": max(float(np.abs(a - b).max()) for a, b in
                                zip(eager.get_weights(), traced.get_weights())),
        "weights": len(traced.get_weights()),
        "eager_losses": eager_losses, "traced_losses": traced_losses,
        "iterations": [int(eager.optimizer.iterations.numpy()),
                       int(traced.optimizer.iterations.numpy())],
        "program_segments": len(segments),
        "host_steps": len(plan._built.segments) - len(segments),
        "program_dispatches": sum(1 for s in segments for c in s.commands
                                  if c[0][0] == "dispatch"),
        "traced_step": per_step(traced), "eager_step": per_step(eager),
    }}
    # compile's default, "auto", traces on the tab's WebGPU too.
    default = build()
    default.compile(loss="sparse_categorical_crossentropy")
    result["auto_traces"] = default.jit_compile
    programs_before = backend.get_backend().driver.bridge.stats.programs
    del traced, plan, segments
    gc.collect()
    result["programs_freed"] = programs_before - backend.get_backend().driver.bridge.stats.programs
    json.dumps(result)
    """
)


def train_in_tab(open_page, kind):
    page = open_page("/train?backend=webgpu")
    wait_ready(page)
    return json.loads(run_python(page, TRAIN_BOTH_WAYS.format(kind=kind, steps=STEPS)))


def check_replay(result, program_segments, host_steps, flushes=0):
    assert result["weights"] >= 4
    assert result["weights_max_diff"] <= 1e-5, result["weights_max_diff"]
    assert len(result["traced_losses"]) == STEPS
    assert result["traced_losses"] == result["eager_losses"]
    assert result["iterations"] == [STEPS, STEPS]
    assert result["auto_traces"] is True
    assert result["program_segments"] == program_segments
    assert result["host_steps"] == host_steps
    traced, eager = result["traced_step"], result["eager_step"]
    # A replayed step: each program segment is one runProgram call and one submit, no layer is
    # called, and the dispatches are exactly the programs'. Nothing else is encoded but the
    # `flushes` the case expects; each remaining submit is a readback's copy (the logs, and
    # each host step's operands).
    assert traced["programRuns"] == program_segments
    assert traced["flushes"] == flushes
    assert traced["layerCalls"] == 0
    assert traced["dispatches"] == result["program_dispatches"] > 10
    assert traced["submits"] == program_segments + flushes + traced["reads"]
    assert traced["bindGroupsCreated"] == 0
    # The eager run walks the layers and flushes from Python (the counters do count).
    assert eager["programRuns"] == 0 and eager["flushes"] > 0 and eager["layerCalls"] > 0
    # Dropping the plan destroys its programs on the JS side.
    assert result["programs_freed"] == program_segments


def test_dense_batchnorm_dropout_replays_as_one_program(open_page):
    check_replay(train_in_tab(open_page, "dense"), program_segments=1, host_steps=0)


# Conv2D and MaxPooling2D run on the host on a software adapter: four host steps (the conv and
# the pool, then their gradients; the first conv needs no input gradient), each followed by a
# program. The step starts on the host, so the batch's copy into the plan's input buffer is
# flushed on its own before the first host step reads it.
def test_conv_replays_as_programs_around_host_steps(open_page):
    check_replay(train_in_tab(open_page, "conv"), program_segments=4, host_steps=4, flushes=1)
