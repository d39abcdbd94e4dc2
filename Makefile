# webkeras build. Every target is idempotent and cached: a second `make setup` does no work.
# Nothing here downloads from anywhere but the PyPI, npm and Debian registries (by package
# name); every third-party binary is checked against a pinned sha256 (see scripts/).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := setup
.DELETE_ON_ERROR:

PYTHON3   ?= python3
VENV      := .venv
PY        := $(VENV)/bin/python
PEERS     := .venv-peers
TFJS_PEERS := .venv-tfjs
CACHE     := .cache
STAMPS    := $(CACHE)/stamps
XDG_DIR   := $(CURDIR)/$(CACHE)/xdg-runtime
APT_PKGS  := chromium mesa-vulkan-drivers dataset-fashion-mnist
# The compilers of the WASM SIMD kernels (kernels/wasm/): clang + its wasm-ld, without
# recommends; clang-14 for the SIMD128 module, clang-16 for the relaxed-SIMD one (clang-14 emits
# the pre-standard relaxed opcodes, which browsers refuse).
WASM_APT_PKGS := clang-14 lld-14 clang-16 lld-16
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST      ?= 127.0.0.1
PORT      ?= 8000

PYODIDE_DIR := build/pyodide
NUMPY_WHL   := $(PYODIDE_DIR)/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl
WEBKERAS_WHL := $(PYODIDE_DIR)/webkeras-0.1.0-py3-none-any.whl
# PyYAML for the tab: its pure-Python wheel, built from the sdist pinned in scripts/tab_requirements.txt
PYYAML_WHL  := $(PYODIDE_DIR)/pyyaml-6.0.2-py3-none-any.whl
# The tab's fast start (web/boot_snapshot.js): a memory snapshot of the bare interpreter and the
# packages' bytecode, listed in this manifest (scripts/make_boot_snapshot.py, in headless Chromium)
BOOT_SNAPSHOT := $(PYODIDE_DIR)/webkeras-boot.json
CHART_JS    := build/vendor/chart.umd.min.js
# TF.js 4.22 (devDependencies) for the browser tests: core + webgpu and wasm backends, and the
# wasm backend's binaries beside them so a page can `tf.wasm.setWasmPaths('/vendor/tfjs/')`.
TFJS_VENDOR := build/vendor/tfjs
TFJS_WASM_FILES := $(addprefix $(TFJS_VENDOR)/,tf-backend-wasm.min.js tfjs-backend-wasm.wasm \
                     tfjs-backend-wasm-simd.wasm tfjs-backend-wasm-threaded-simd.wasm)
# The workbench's editor: CodeMirror 6 + Python mode bundled by esbuild (npm) into one ES module.
CODEMIRROR_JS := build/vendor/codemirror.js
# The workbench's model graphs (plot_model): Graphviz in wasm, one self-contained ES module.
VIZ_JS := build/vendor/viz.js
EDITOR_SRCS := $(wildcard web/editor/*.js)
TFJS_FILES  := $(TFJS_VENDOR)/tf.min.js $(TFJS_VENDOR)/tf-backend-webgpu.min.js $(TFJS_WASM_FILES)

# The WASM SIMD kernels of the NumPy backend in the tab: side modules that Pyodide opens with
# ctypes (py/webkeras/backend/numpy/wasm_kernels.py), built from kernels/wasm/*.c, each with its
# sha256 beside it; the browser wheel carries them. SIMD128 everywhere; the relaxed-SIMD build
# (fused multiply-add) is picked where the browser validates it. Freestanding: no libc.
WASM_MODULE := build/wasm/webkeras_simd128.wasm
WASM_RELAXED_MODULE := build/wasm/webkeras_relaxed_simd.wasm
WASM_MODULES := $(WASM_MODULE) $(WASM_RELAXED_MODULE)
WASM_SRCS   := $(sort $(wildcard kernels/wasm/*.c kernels/wasm/*.h))
WASM_CC     ?= clang-14
WASM_RELAXED_CC ?= clang-16
WASM_FLAGS  := --target=wasm32-unknown-emscripten -ffreestanding -fno-builtin -nostdlib -O3 \
               -msimd128 -fPIC -Wall -Werror -Wl,--experimental-pic -Wl,-shared -Wl,--export-all

# Sources that go into the browser wheel (rebuild when any of them changes, appears or goes).
WHEEL_SRCS := $(shell find py/webkeras -type f -not -path '*/__pycache__/*' -not -name '*.pyc' 2>/dev/null | sort) \
              $(shell find kernels -type f \( -name '*.py' -o -name '*.wgsl' \) -not -path '*/__pycache__/*' 2>/dev/null | sort) \
              $(shell find py/webkeras kernels -type d -not -name __pycache__ 2>/dev/null | sort)

.PHONY: fuzz loadtest setup apt apt-wasm wasm venv npm pyodide wheel boot-snapshot datasets vendor models check-pyodide run test test-slow lint check-wheel bench peers-venv bench-peers clean distclean interop tfjs-peers tfjs-fixtures

setup: apt apt-wasm venv npm pyodide wasm wheel boot-snapshot datasets vendor models
	@echo "setup: OK"

# (a) system packages, only when missing (plus python3-venv if Debian's python3 lacks ensurepip)
apt:
	@pkgs="$(APT_PKGS)"; \
	$(PYTHON3) -c 'import ensurepip, venv' >/dev/null 2>&1 || pkgs="$$pkgs python3-venv"; \
	if dpkg -s $$pkgs >/dev/null 2>&1; then :; else \
	  echo "apt: installing $$pkgs"; \
	  $(SUDO) apt-get update; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$pkgs; \
	fi

# (a2) clang/lld for kernels/wasm/, only when missing
apt-wasm:
	@if dpkg -s $(WASM_APT_PKGS) >/dev/null 2>&1; then :; else \
	  echo "apt: installing $(WASM_APT_PKGS)"; \
	  $(SUDO) apt-get update; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    $(WASM_APT_PKGS); \
	fi

# (b) the project venv (an editable install); reinstall when the build configuration changes
$(PY):
	$(PYTHON3) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml setup.py | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# (c) npm packages; reinstall only when the lock changes
node_modules/.installed: package-lock.json package.json
	npm ci --prefer-offline --no-audit --no-fund
	touch $@

npm: node_modules/.installed

# (d) Pyodide runtime + numpy wheel, verified
$(STAMPS)/pyodide: scripts/fetch_pyodide.py scripts/_common.py node_modules/.installed | $(PY)
	$(PY) scripts/fetch_pyodide.py
	mkdir -p $(STAMPS) && touch $@

pyodide: $(STAMPS)/pyodide

# (d2) the WASM SIMD kernels, rebuilt when a C source changes
$(WASM_MODULE): $(WASM_SRCS) Makefile | apt-wasm
	mkdir -p $(@D)
	$(WASM_CC) $(WASM_FLAGS) -o $@.tmp $(filter %.c,$^)
	mv $@.tmp $@
	sha256sum $@ | cut -d' ' -f1 > $@.sha256

$(WASM_RELAXED_MODULE): $(WASM_SRCS) Makefile | apt-wasm
	mkdir -p $(@D)
	$(WASM_RELAXED_CC) $(WASM_FLAGS) -mrelaxed-simd -o $@.tmp $(filter %.c,$^)
	mv $@.tmp $@
	sha256sum $@ | cut -d' ' -f1 > $@.sha256

wasm: $(WASM_MODULES)

# (e) the webkeras wheel for the browser, built by pip like any wheel (setup.py's tab variant:
# no server, plus the WASM kernels), byte-for-byte reproducible, registered in pyodide-lock.json
$(WEBKERAS_WHL): $(WHEEL_SRCS) $(WASM_MODULES) pyproject.toml setup.py scripts/register_wheel.py scripts/_common.py $(STAMPS)/pyodide $(PYYAML_WHL) | $(VENV)/.installed
	rm -rf $(CACHE)/setuptools-tab $(CACHE)/wheel-tab
	WEBKERAS_WHEEL=tab SOURCE_DATE_EPOCH=315532800 $(PY) -m pip wheel --disable-pip-version-check --no-deps -q -w $(CACHE)/wheel-tab .
	mv $(CACHE)/wheel-tab/$(notdir $@) $@ && touch $@
	$(PY) scripts/register_wheel.py $@ --depends numpy,pyyaml

# Pyodide ships PyYAML with its C extension, which is not in our offline runtime; the pure build
# (PYYAML_FORCE_LIBYAML=0) replaces that lock entry.
$(PYYAML_WHL): scripts/tab_requirements.txt scripts/register_wheel.py $(STAMPS)/pyodide | $(VENV)/.installed
	rm -rf $(CACHE)/tab-sdists $(CACHE)/wheel-pyyaml
	$(PY) -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: --require-hashes -r scripts/tab_requirements.txt -d $(CACHE)/tab-sdists
	PYYAML_FORCE_LIBYAML=0 SOURCE_DATE_EPOCH=315532800 $(PY) -m pip wheel --disable-pip-version-check --no-deps -q -w $(CACHE)/wheel-pyyaml $(CACHE)/tab-sdists/pyyaml-6.0.2.tar.gz
	mv $(CACHE)/wheel-pyyaml/$(notdir $@) $@ && touch $@
	$(PY) scripts/register_wheel.py $@ --imports yaml --depends ""

# the wheel and the bytecode compiled from it go together
wheel: $(WEBKERAS_WHL) $(BOOT_SNAPSHOT)

# (e2) the boot snapshot and bytecode, remade with the wheels they were made from
$(BOOT_SNAPSHOT): scripts/make_boot_snapshot.py scripts/boot_snapshot_maker.js $(WEBKERAS_WHL) \
                  $(PYYAML_WHL) $(STAMPS)/pyodide | $(VENV)/.installed
	$(PY) scripts/make_boot_snapshot.py

boot-snapshot: $(BOOT_SNAPSHOT)

# (f) datasets into $${WEBKERAS_HOME:-~/.webkeras}/datasets: mnist, fashion_mnist (apt), boston_housing,
# imdb (the script itself skips each one whose files match their .sha256 sidecars)
datasets: | $(VENV)/.installed
	@$(PY) scripts/fetch_datasets.py

# (g) vendored browser JS
$(CHART_JS): node_modules/.installed
	mkdir -p $(@D)
	cp node_modules/chart.js/dist/chart.umd.min.js $@
	cp node_modules/chart.js/dist/chart.umd.js $(@D)/chart.umd.js

$(TFJS_VENDOR)/tf.min.js: node_modules/.installed
	mkdir -p $(@D)
	cp node_modules/@tensorflow/tfjs/dist/$(@F) $@

$(TFJS_VENDOR)/tf-backend-webgpu.min.js: node_modules/.installed
	mkdir -p $(@D)
	cp node_modules/@tensorflow/tfjs-backend-webgpu/dist/$(@F) $@

$(TFJS_WASM_FILES): node_modules/.installed
	mkdir -p $(@D)
	cp node_modules/@tensorflow/tfjs-backend-wasm/dist/$(@F) $@

# esbuild's native binary comes from its @esbuild/<platform> optional dependency (no install
# script needed); rebuilt only when the entry or the lock changes.
$(CODEMIRROR_JS): $(EDITOR_SRCS) node_modules/.installed
	mkdir -p $(@D)
	node_modules/.bin/esbuild web/editor/editor_entry.js --bundle --format=esm --minify \
	  --target=es2020 --log-level=warning --outfile=$@.tmp.js
	mv $@.tmp.js $@

$(VIZ_JS): node_modules/.installed
	mkdir -p $(@D)
	cp node_modules/@viz-js/viz/dist/viz.js $@

vendor: $(CHART_JS) $(TFJS_FILES) $(CODEMIRROR_JS) $(VIZ_JS)

# (h) the MNIST CNN /predict loads by default, trained with webkeras itself (about a minute);
# retrained only when its script changes
DEFAULT_MODEL := build/models/mnist_cnn.json
$(DEFAULT_MODEL): scripts/train_default_model.py | datasets
	OPENBLAS_NUM_THREADS=1 $(PY) scripts/train_default_model.py build/models

models: $(DEFAULT_MODEL)

# smoke test of build/pyodide in node: Pyodide boots, numpy and webkeras load (sha256-checked)
check-pyodide: pyodide wheel
	node scripts/check_pyodide.mjs

run: setup
	$(VENV)/bin/webkeras serve --host $(HOST) --port $(PORT)

# make test skips the cases marked slow (each kind keeps a quick case there); make test-slow runs them.
test: setup
	mkdir -p $(XDG_DIR) && chmod 700 $(XDG_DIR)
	XDG_RUNTIME_DIR=$(XDG_DIR) $(PY) -m pytest -q -m "not slow" tests $(PYTEST_ARGS)

# the linter (ruff, configured in pyproject.toml) over the whole tree, then the import-direction
# contract (pyproject's [tool.importlinter]) over the package laid out as the wheel installs it:
# py/webkeras with server/ and kernels/ inside
IMPORT_GRAPH := build/import-graph
lint: venv
	$(VENV)/bin/ruff check .
	rm -rf $(IMPORT_GRAPH) && mkdir -p $(IMPORT_GRAPH)
	cp -r py/webkeras $(IMPORT_GRAPH)/ && cp -r server kernels $(IMPORT_GRAPH)/webkeras/
	cd $(IMPORT_GRAPH) && PYTHONPATH=. $(abspath $(VENV))/bin/lint-imports $(CURDIR)/pyproject.toml

# the standard wheel, installed in a fresh venv outside the checkout: imports, CLI, a tiny fit
check-wheel: venv
	$(PY) scripts/check_wheel.py

test-slow: setup
	mkdir -p $(XDG_DIR) && chmod 700 $(XDG_DIR)
	XDG_RUNTIME_DIR=$(XDG_DIR) $(PY) -m pytest -q -m slow tests $(PYTEST_ARGS)

bench: setup
	@shopt -s nullglob; files=(bench/*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "bench: no bench/*.py files" >&2; exit 1; fi; \
	mkdir -p $(XDG_DIR) && chmod 700 $(XDG_DIR); \
	for f in "$${files[@]}"; do \
	  case "$$(basename "$$f")" in _*) continue;; esac; \
	  echo "== $$f"; XDG_RUNTIME_DIR=$(XDG_DIR) $(PY) "$$f"; \
	done

# Reference implementation for comparisons: Keras 3 on JAX, in its own venv (~750 MB).
# Bench scripts find it at .venv-peers/bin/python (run it with KERAS_BACKEND=jax).
$(PEERS)/.installed:
	[ -x $(PEERS)/bin/python ] || $(PYTHON3) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --disable-pip-version-check -q \
	  'keras==3.15.1' 'jax==0.10.2' 'jaxlib==0.10.2' h5py numpy
	touch $@

peers-venv: $(PEERS)/.installed

bench-peers: setup peers-venv
	mkdir -p $(XDG_DIR) && chmod 700 $(XDG_DIR)
	PEERS=1 KERAS_BACKEND=jax XDG_RUNTIME_DIR=$(XDG_DIR) $(PY) bench/train_step.py

# The real TF.js converter and tf.keras 2, in their own venv (~2.9 GB; not part of setup/test).
# ydf is pinned because tensorflowjs 4.22 otherwise pulls a ydf whose protobuf clashes with TF's;
# the rest are what pip resolved for it (tf_keras is the tf.keras 2 the converter uses, keras
# reads `.keras` input).
$(TFJS_PEERS)/.installed:
	[ -x $(TFJS_PEERS)/bin/python ] || $(PYTHON3) -m venv $(TFJS_PEERS)
	$(TFJS_PEERS)/bin/python -m pip install --disable-pip-version-check -q \
	  'tensorflowjs==4.22.0' 'ydf==0.13.0' 'tensorflow==2.19.0' 'tf-keras==2.19.0' \
	  'tensorflow-decision-forests==1.12.0' 'keras==3.15.1' 'protobuf==5.29.6'
	touch $@

tfjs-peers: $(TFJS_PEERS)/.installed

# Regenerates tests/reference/tfkeras2/ and tests/reference/tfjs_converter/ (committed fixtures).
tfjs-fixtures: tfjs-peers
	TF_USE_LEGACY_KERAS=1 $(TFJS_PEERS)/bin/python tests/reference/make_converter_reference.py

# Coverage-guided fuzzing of every model-file loader (scripts/fuzz_loaders.py), not part of
# `make test`: atheris (libFuzzer) in its own venv, FUZZ_SECONDS per target, seeded from the
# hostile corpus; a crash (an exception outside the ModelFileError family) is saved under
# tests/fuzz_findings/TARGET/, where the corpus picks it up as a case.
FUZZ_VENV    := .venv-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= keras h5 weights.h5 tfjs json yaml

$(FUZZ_VENV)/.installed:
	[ -x $(FUZZ_VENV)/bin/python ] || $(PYTHON3) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/python -m pip install --disable-pip-version-check -q \
	  'atheris==3.0.0' numpy h5py pyyaml
	touch $@

fuzz: $(FUZZ_VENV)/.installed
	@status=0; for target in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$target ($(FUZZ_SECONDS) s)"; \
	  if ! OPENBLAS_NUM_THREADS=1 $(FUZZ_VENV)/bin/python scripts/fuzz_loaders.py $$target \
	    $(FUZZ_SECONDS) 2>&1 | grep -E '^(Done|stat::|==[0-9]+== ERROR|artifact_prefix)'; \
	  then status=1; fi; \
	done; exit $$status

# Load test on loopback (scripts/loadtest.py), not part of `make test`: 50 clients, 1,000 mixed
# requests (conversions checked by prediction, dataset ranges, static files) against gunicorn,
# then the development server; stops by itself; writes bench/results/loadtest_DATE.md.
loadtest: setup
	$(PY) scripts/loadtest.py

# build outputs; keeps downloads (.cache/downloads), the venvs and node_modules
clean:
	rm -rf build $(STAMPS)/pyodide test-results
	find . -name __pycache__ -type d -not -path './.venv*' -not -path './node_modules/*' -prune -exec rm -rf {} +

# everything `make setup` made, downloads included (datasets under ~/.webkeras are kept)
distclean: clean
	rm -rf $(VENV) $(PEERS) $(TFJS_PEERS) $(FUZZ_VENV) node_modules $(CACHE) *.egg-info py/*.egg-info

# live saving round trip: webkeras writes .keras / .h5 / .weights.h5, real Keras 3 loads them;
# and scale-out: the tab's model trained further with keras.distribution.DataParallel, loaded back
# and keras.applications: weights real Keras saves load, same names, parameters, predictions
interop: venv
	$(PY) -m pytest -q -s tests/test_saving_interop.py tests/test_scale_out_interop.py \
		tests/test_applications_interop.py
