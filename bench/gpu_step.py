"""Milliseconds per `train_on_batch` step on a real GPU (issue #17): webkeras's WebGPU backend
(wgpu-py on the GPU's Vulkan driver) against Keras 3 + JAX on the same GPU, with webkeras's NumPy
backend on the host CPU for reference.

Models (random data, fixed seed; each compiled with metrics=["accuracy"]):
  M1  MLP 784-128-10 (relu, softmax), batch 128, Adam, sparse categorical cross-entropy
  M2  LeNet: Conv2D 32 5x5 relu, MaxPool 2, Conv2D 64 5x5 relu, MaxPool 2, Flatten,
      Dense 500 relu, Dense 10 softmax; 28x28x1, batch 32, SGD, sparse categorical CE
  M3  IMDB: Embedding(20000, 128), LSTM(128), Dense(1, sigmoid); length 80, batch 32, Adam,
      binary cross-entropy

Every (contender, model) runs in its own subprocess with a time budget (warm-up steps, then up
to --steps timed steps, stopping early when the budget is spent) and a hard timeout; the whole
run stops starting new measurements after --total seconds. A failure is reported in its cell.
webkeras is eager only: `compile(jit_compile=...)` is accepted and ignored, so it runs once.
Keras-JAX runs jitted (its default) and, if time is left, eagerly (jit_compile=False).

Prints the adapters (wgpu, jax.devices()) and a markdown table; with $OUT set, also writes
gpu_step.md, gpu_step.json (raw step times, dispatch counts, a profile of one webgpu step) and
gpu_step.log there, rewritten after every measurement.

    python3 bench/gpu_step.py [--steps 50] [--total 330] [--contenders jax,webgpu,numpy,jax-eager]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = {"M1": "MLP 784-128-10, b128, Adam", "M2": "LeNet, b32, SGD",
          "M3": "IMDB Emb+LSTM(128), len 80, b32, Adam"}
# contender -> (label, per-model budget in seconds)
CONTENDERS = {
    "jax": ("Keras-JAX GPU (jit)", 35),
    "webgpu": ("webkeras webgpu", 55),
    "numpy": ("webkeras numpy CPU", 25),
    "jax-eager": ("Keras-JAX GPU eager", 15),
}
# Seconds a child may take beyond its budget (imports, device start, model build, one slow
# step) before it is killed.
CHILD_SLACK = 40
NVIDIA_ICDS = ("/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json",
               "/usr/share/vulkan/icd.d/nvidia_icd.json", "/etc/vulkan/icd.d/nvidia_icd.json")
NVIDIA_EGL = "/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"


# -- child side ----------------------------------------------------------------------------------
def build_model(keras, name):
    if name == "M1":
        model = keras.Sequential([
            keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], **JIT)
        return model, 128, (784,), "float32", 10
    if name == "M2":
        layers = keras.layers
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 5, activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(64, 5, activation="relu"), layers.MaxPooling2D(2),
            layers.Flatten(), layers.Dense(500, activation="relu"),
            layers.Dense(10, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], **JIT)
        return model, 32, (28, 28, 1), "float32", 10
    if name == "M3":
        model = keras.Sequential([
            keras.Input((80,), dtype="int32"), keras.layers.Embedding(20000, 128),
            keras.layers.LSTM(128), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], **JIT)
        return model, 32, (80,), "int32", 2
    raise ValueError(name)


JIT = {}


def _first(logs):
    value = logs[0] if isinstance(logs, (list, tuple)) else logs
    return float(value)


def _count_driver(backend):
    """Wrap the webgpu driver's methods with counters; returns the counter dict."""
    driver = backend.driver
    counts = {"dispatch": 0, "submit": 0, "read": 0, "write": 0, "pipelines": 0}

    def counted(method, key, only_if_queue=False):
        def wrapper(*args, **kwargs):
            if not only_if_queue or getattr(driver, "_queue", None):
                counts[key] += 1
            return method(*args, **kwargs)
        return wrapper

    driver.dispatch = counted(driver.dispatch, "dispatch")
    driver.flush = counted(driver.flush, "submit", only_if_queue=True)
    driver.read = counted(driver.read, "read")
    driver.write = counted(driver.write, "write")
    driver.create_pipeline = counted(driver.create_pipeline, "pipelines")
    return counts


def child(contender, model_name, steps, budget):
    import numpy as np

    info = {"contender": contender, "model": model_name}
    t_import = time.perf_counter()
    if contender in ("jax", "jax-eager"):
        os.environ["KERAS_BACKEND"] = "jax"
        import jax
        import keras

        info["device"] = [str(d) for d in jax.devices()]
        info["versions"] = {"keras": keras.__version__, "jax": jax.__version__}
        if contender == "jax-eager":
            JIT["jit_compile"] = False
        backend = None
    else:
        import webkeras as keras

        backend = keras.backend.set_backend(contender)
        info["device"] = keras.backend.device()
        info["versions"] = {"webkeras": keras.__version__}
        if contender == "webgpu":
            import wgpu

            info["versions"]["wgpu"] = wgpu.__version__
            limits = backend.limits
            info["webgpu_limits"] = {
                "windows_on_host": limits.windows_on_host,
                "row_reductions": limits.row_reductions,
                "workgroup": limits.workgroup, "matmul_threads": limits.matmul_threads,
                "max_binding": limits.max_binding}
    info["import_s"] = time.perf_counter() - t_import
    info["versions"]["numpy"] = np.__version__

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    model, batch, shape, dtype, classes = build_model(keras, model_name)
    if dtype == "int32":
        x = rng.integers(0, 20000, (batch, *shape)).astype("int32")
        y = rng.integers(0, 2, (batch, 1)).astype("float32")
    else:
        x = rng.random((batch, *shape), dtype=np.float32)
        y = rng.integers(0, classes, batch).astype("int32")
    info["build_s"] = time.perf_counter() - start

    # Warm-up: the first step builds the model and compiles kernels / XLA programs.
    warm = []
    losses = []
    counts = None
    for i in range(3):
        if contender == "webgpu" and i == 2:
            counts = _count_driver(backend)
        t = time.perf_counter()
        losses.append(_first(model.train_on_batch(x, y)))
        warm.append((time.perf_counter() - t) * 1e3)
        if time.perf_counter() - start > budget / 3:
            break
    if counts is not None:
        info["per_step_counts"] = dict(counts)  # one warm step: dispatches, submits, ...
        for key in counts:
            counts[key] = 0

    times = []
    while len(times) < steps and (not times or time.perf_counter() - start < budget):
        t = time.perf_counter()
        losses.append(_first(model.train_on_batch(x, y)))
        times.append((time.perf_counter() - t) * 1e3)
    if counts is not None:
        info["pipelines_created_while_timed"] = counts["pipelines"]

    # One profiled step (webgpu only, when time is left): where the host time goes.
    if contender == "webgpu" and time.perf_counter() - start < budget * 0.8:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        model.train_on_batch(x, y)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(15)
        info["profile_top"] = text.getvalue()[-6000:]

    info.update(
        median_ms=statistics.median(times), mean_ms=statistics.fmean(times),
        min_ms=min(times), max_ms=max(times), steps=len(times), steps_asked=steps,
        warmup_ms=warm, times_ms=times, loss_first=losses[0], loss_last=losses[-1],
        finite=bool(np.all(np.isfinite(losses))), total_s=time.perf_counter() - start,
        budget_s=budget)
    print("RESULT " + json.dumps(info), flush=True)


def probe_wgpu():
    import wgpu

    adapters = []
    for adapter in wgpu.gpu.enumerate_adapters_sync():
        info = dict(adapter.info)
        adapters.append({k: str(v) for k, v in info.items()} | {"summary": adapter.summary})
    chosen = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
    print("RESULT " + json.dumps({"adapters": adapters,
                                  "chosen": chosen.summary if chosen else None,
                                  "wgpu": wgpu.__version__}), flush=True)


def probe_jax():
    os.environ["KERAS_BACKEND"] = "jax"
    import jax

    out = {"jax": jax.__version__, "devices": [repr(d) for d in jax.devices()],
           "default_backend": jax.default_backend()}
    try:
        import keras

        out["keras"] = keras.__version__
    except Exception as error:  # noqa: BLE001
        out["keras"] = f"import failed: {error!r}"
    print("RESULT " + json.dumps(out), flush=True)


# -- parent side ---------------------------------------------------------------------------------
class Log:
    def __init__(self):
        self.lines = []

    def __call__(self, *parts):
        line = " ".join(str(p) for p in parts)
        print(line, flush=True)
        self.lines.append(line)


log = Log()


def child_env(contender, extra=None):
    env = dict(os.environ)
    runtime = Path(tempfile.gettempdir()) / "gpu_step_xdg"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.setdefault("XDG_RUNTIME_DIR", str(runtime))
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if contender in ("webgpu", "numpy", "probe-wgpu"):
        paths = [str(ROOT / "py")] + paths
    else:
        paths = [p for p in paths if Path(p).resolve() != (ROOT / "py").resolve()]
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_child(args, env, timeout, python=None):
    """Runs this file with `args` in a subprocess; returns (result dict, stderr tail)."""
    cmd = [os.path.abspath(python) if python else sys.executable, str(Path(__file__).resolve()),
           *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                              cwd=tempfile.gettempdir(), check=False)
        out, err, rc = proc.stdout, proc.stderr, proc.returncode
    except OSError as error:
        return {"error": f"could not start {cmd[0]}: {error}"}, ""
    except subprocess.TimeoutExpired as error:
        out = error.stdout.decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
        err = error.stderr.decode() if isinstance(error.stderr, bytes) else (error.stderr or "")
        rc = f"killed after {timeout:.0f}s"
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:]), err
    tail = [line for line in err.strip().splitlines() if line.strip()][-3:]
    return {"error": f"exit {rc}: " + (" | ".join(tail) or "no output")[-400:]}, err


def find_vulkan_env(timeout):
    """The env under which wgpu sees a real GPU over Vulkan: as given, else with an NVIDIA ICD
    named in VK_DRIVER_FILES. Returns (extra env, probe result)."""
    tries = [{}]
    for icd in NVIDIA_ICDS:
        if Path(icd).exists():
            extra = {"VK_DRIVER_FILES": icd, "VK_ICD_FILENAMES": icd}
            if Path(NVIDIA_EGL).exists():
                extra["__EGL_VENDOR_LIBRARY_FILENAMES"] = NVIDIA_EGL
            tries.append(extra)
    first = None
    for extra in tries:
        result, err = run_child(["--probe", "wgpu"], child_env("probe-wgpu", extra), timeout)
        if "error" in result:
            result["stderr_tail"] = err[-1500:]
        log(f"wgpu probe{' with ' + json.dumps(extra) if extra else ''}:")
        for adapter in result.get("adapters", []):
            log("   ", adapter.get("summary"), "|", json.dumps(
                {k: adapter.get(k) for k in ("vendor", "device", "description", "backend_type",
                                             "adapter_type")}))
        log("    chosen:", result.get("chosen", result.get("error")))
        first = first or (extra, result)
        gpu = [a for a in result.get("adapters", [])
               if a.get("backend_type") == "Vulkan" and a.get("adapter_type") != "CPU"]
        if gpu:
            return extra, result
    return first


def fmt(result, steps):
    if result is None:
        return "-"
    if "median_ms" not in result:
        return "failed" if "error" in result else "-"
    text = f"{result['median_ms']:.2f}"
    if result["steps"] < steps:
        text += f" (n={result['steps']})"
    if not result.get("finite", True):
        text += " NaN!"
    device = str(result.get("device", "")).lower()
    if "(cpu)" in device or (result.get("contender", "").startswith("jax")
                             and "cuda" not in device and "gpu" not in device):
        text += " [on CPU]"
    return text


def table(results, steps):
    head = ("| model | webkeras webgpu (ms) | Keras-JAX GPU (ms) | ratio | webkeras numpy CPU (ms) "
            "| Keras-JAX GPU eager (ms) |")
    lines = [head, "|---|---:|---:|---:|---:|---:|"]
    for model, desc in MODELS.items():
        row = {c: results.get(f"{c}/{model}") for c in CONTENDERS}
        gpu, jax = row["webgpu"], row["jax"]
        ratio = "-"
        if gpu and jax and "median_ms" in gpu and "median_ms" in jax:
            ratio = f"{gpu['median_ms'] / jax['median_ms']:.1f}x"
        lines.append(f"| {model} {desc} | {fmt(gpu, steps)} | {fmt(jax, steps)} | {ratio} | "
                     f"{fmt(row['numpy'], steps)} | {fmt(row['jax-eager'], steps)} |")
    lines.append("")
    lines.append(f"ms per train_on_batch step, median of up to {steps} steps after warm-up "
                 "(n= fewer when the time budget cut it); ratio = webgpu / Keras-JAX jit.")
    devices = {}
    for key, result in results.items():
        if "device" in result:
            devices.setdefault(key.split("/")[0], str(result["device"]))
    for contender, device in devices.items():
        lines.append(f"- {CONTENDERS[contender][0]} ran on: {device}")
    for key, result in results.items():
        if key.count("/") == 1 and "error" in result:
            lines.append(f"- {key}: {result['error']}")
    return "\n".join(lines)


def save(out_dir, results, steps, meta):
    if not out_dir:
        return
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_step.md").write_text(table(results, steps) + "\n")
    (out / "gpu_step.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    (out / "gpu_step.log").write_text("\n".join(log.lines) + "\n")


def default_jax_python():
    """This python if it has JAX (the GPU machine), else the checkout's `.venv-peers`
    (`make peers-venv`) when it exists."""
    import importlib.util

    peers = ROOT / ".venv-peers" / "bin" / "python"
    if importlib.util.find_spec("jax") is None and peers.exists():
        return str(peers)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--total", type=float, default=330,
                        help="seconds after which no new measurement starts / runs on")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--budget-scale", type=float, default=1.0)
    parser.add_argument("--jax-python", default=None,
                        help="python for the Keras-JAX children (default: this one if it has "
                             "jax, else .venv-peers/bin/python)")
    args = parser.parse_args()
    if args.jax_python is None:
        args.jax_python = default_jax_python()
    t0 = time.time()
    deadline = t0 + args.total
    out_dir = os.environ.get("OUT")

    meta = {"python": sys.version.split()[0], "executable": sys.executable,
            "platform": platform.platform(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "steps": args.steps}
    log(f"gpu_step: python {meta['python']} on {meta['platform']}, {meta['cpus']} CPUs")
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,"
                              "clocks.sm,clocks.max.sm", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=False)
        meta["nvidia_smi"] = smi.stdout.strip()
        log("nvidia-smi:", meta["nvidia_smi"] or smi.stderr.strip()[:200])
    except (OSError, subprocess.SubprocessError) as error:
        meta["nvidia_smi"] = repr(error)

    contenders = [c for c in args.contenders.split(",") if c]
    models = [m for m in args.models.split(",") if m]
    results = {}

    vulkan_extra = {}
    if "webgpu" in contenders:
        vulkan_extra, probe = find_vulkan_env(timeout=60)
        meta["wgpu_probe"] = probe
        meta["wgpu_env"] = vulkan_extra
        if any(a.get("backend_type") == "Vulkan" and a.get("adapter_type") != "CPU"
               for a in probe.get("adapters", [])):
            vulkan_extra = dict(vulkan_extra, WGPU_BACKEND_TYPE="Vulkan")
    if any(c.startswith("jax") for c in contenders):
        probe, err = run_child(["--probe", "jax"], child_env("jax"), 90, args.jax_python)
        if "error" in probe:
            probe["stderr_tail"] = err[-1500:]
        meta["jax_probe"] = probe
        log("jax probe:", json.dumps(probe))
    save(out_dir, results, args.steps, meta)

    for contender in contenders:
        label, budget = CONTENDERS[contender]
        budget *= args.budget_scale
        for model in models:
            key = f"{contender}/{model}"
            left = deadline - time.time()
            if left < 15:
                results[key] = {"error": "skipped: out of total time"}
                log(f"{key}: skipped (out of time)")
                continue
            extra = vulkan_extra if contender == "webgpu" else None
            python = args.jax_python if contender.startswith("jax") else None
            timeout = min(budget + CHILD_SLACK, left)
            child_budget = min(budget, max(5.0, left - CHILD_SLACK))
            log(f"{key} ({label}): budget {child_budget:.0f}s, timeout {timeout:.0f}s ...")
            result, err = run_child(["--child", contender, model, "--steps", str(args.steps),
                                     "--budget", str(child_budget)],
                                    child_env(contender, extra), timeout, python)
            if "error" in result:
                result["stderr_tail"] = err[-3000:]
                log(f"    FAILED: {result['error']}")
                for line in [text for text in err.strip().splitlines() if text.strip()][-12:]:
                    log(f"      | {line[:300]}")
            else:
                log(f"    {result['median_ms']:.2f} ms median of {result['steps']} steps "
                    f"(warm-up {', '.join(f'{w:.0f}' for w in result['warmup_ms'])} ms; "
                    f"loss {result['loss_first']:.4f} -> {result['loss_last']:.4f}; "
                    f"device {result.get('device')}; {result['total_s']:.1f}s)")
                if "per_step_counts" in result:
                    log(f"    per step: {json.dumps(result['per_step_counts'])}")
            results[key] = result
            save(out_dir, results, args.steps, meta)

    log("")
    log(table(results, args.steps))
    log(f"(gpu_step took {time.time() - t0:.0f}s)")
    save(out_dir, results, args.steps, meta)
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("--child", "--probe"):
        # Children must not import this folder's modules (bench/kernels.py) by accident.
        if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
            sys.path.pop(0)
        if sys.argv[1] == "--probe":
            {"wgpu": probe_wgpu, "jax": probe_jax}[sys.argv[2]]()
        else:
            parser = argparse.ArgumentParser()
            parser.add_argument("--child", nargs=2)
            parser.add_argument("--steps", type=int)
            parser.add_argument("--budget", type=float)
            child_args = parser.parse_args()
            child(*child_args.child, child_args.steps, child_args.budget)
    else:
        main()
