"""What pyproject.toml cannot say: three source folders make one import package, found here.

    py/webkeras -> webkeras,  kernels -> webkeras.kernels,  server -> webkeras.server

Every folder below them that holds an __init__.py is a subpackage (found at build time, so a
new one needs no list to be edited). `WEBKERAS_WHEEL=tab` builds the wheel the browser loads
with the same tool: without the server (it never runs in a tab) and with the WASM SIMD kernels
that `make wasm` built into build/wasm/ (as webkeras/kernels/wasm/).
"""

import os

from setuptools import find_packages, setup

SOURCE_FOLDERS = {"webkeras": "py/webkeras", "webkeras.kernels": "kernels",
                  "webkeras.server": "server"}
PACKAGE_DATA = {"webkeras.kernels": ["*.wgsl"]}
TAB = os.environ.get("WEBKERAS_WHEEL") == "tab"


def found_packages(folders):
    for root, folder in folders.items():
        yield root
        yield from (f"{root}.{name}" for name in find_packages(folder))


folders = dict(SOURCE_FOLDERS)
package_data = dict(PACKAGE_DATA)
if TAB:
    del folders["webkeras.server"]
packages = sorted(found_packages(folders))
if TAB:
    # Built artefacts, not sources: the side modules and the sha256 each is checked against.
    folders["webkeras.kernels.wasm"] = "build/wasm"
    packages.append("webkeras.kernels.wasm")
    package_data["webkeras.kernels.wasm"] = ["*.wasm", "*.wasm.sha256"]

setup(
    packages=packages,
    package_dir=folders,
    package_data=package_data,
    # Two variants from one tree: each builds in its own folder so neither leaks into the other.
    options={"build": {"build_base": f".cache/setuptools-{'tab' if TAB else 'full'}"}},
)
