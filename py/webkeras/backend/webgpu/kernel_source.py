"""The WGSL kernel templates (`webkeras.kernels`) and the limits every kernel family shares."""

import importlib.util
import pathlib
import sys


def _load_kernels():
    """`webkeras.kernels` in a wheel; from a checkout, the top-level kernels/ beside py/."""
    try:
        from webkeras import kernels

        return kernels
    except ImportError:
        pass
    path = pathlib.Path(__file__).resolve().parents[4] / "kernels" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "webkeras.kernels", path, submodule_search_locations=[str(path.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["webkeras.kernels"] = module
    spec.loader.exec_module(module)
    return module


kernels = _load_kernels()


#: Longest loop a kernel thread may run (llvmpipe silently stops loops at 65535 iterations).
LOOP_LIMIT = 32768
