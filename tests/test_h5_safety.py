"""HDF5 files that reach outside themselves are refused by every loader (issue #12, item 1).

Each hostile file is a real webkeras model file (`.weights.h5`, legacy `.h5`, `.keras`) whose
Dense kernel was rewritten in place with h5py: external storage pointing at a marker file,
an external link, soft links, hard-link cycles and DAGs, a virtual dataset, a filter that
would load an HDF5 plugin; and one file over a lowered `weight_bytes` limit. `load_model`,
`load_weights`, the pure-Python reader (the tab's) and POST /api/convert all refuse each one,
naming the dataset or link, and the marker's bytes appear in nothing they return.
"""

import io
import zipfile

import h5py
import numpy as np
import pytest
import webkeras as keras
from conftest import REPO_ROOT, create_app
from webkeras.saving import h5_safety, keras_zip, pure_h5, weights_h5
from webkeras.utils import file_limits
from webkeras.utils.file_errors import FileLimitError, ModelFileError, UnsafeContentError

# 48 bytes: exactly the (4, 3) float32 kernel, so a loader that followed the file would load it.
MARKER = b"SECRET-MARKER-" * 3 + b"!!!!!!"
MARKER_VALUES = np.frombuffer(MARKER, "<f4").reshape(4, 3)
KINDS = ("weights.h5", "h5", "keras")
# The kernel inside each kind's HDF5 file (for `.keras`: inside its model.weights.h5 member).
KERNEL = {"weights.h5": "layers/dense/vars/0", "h5": "model_weights/dense/dense/kernel",
          "keras": "layers/dense/vars/0"}
FILTER_ID = 32013


def make_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense")])
    model.layers[-1].kernel.assign(np.full((4, 3), 0.5, "float32"))
    return model


def save(model, path, kind):
    if kind == "weights.h5":
        model.save_weights(path)
    else:
        model.save(path)


def edit_h5(path, edit, kind, tmp_path):
    """Applies `edit(h5file, kernel_path, tmp_path)` to the HDF5 file (or .keras member)."""
    if kind != "keras":
        with h5py.File(path, "r+") as f:
            edit(f, KERNEL[kind], tmp_path)
        return
    member = tmp_path / "member.h5"
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info)) for info in src.infolist()]
    member.write_bytes(dict((i.filename, d) for i, d in items)[keras_zip.VARS_FILENAME])
    with h5py.File(member, "r+") as f:
        edit(f, KERNEL[kind], tmp_path)
    with zipfile.ZipFile(path, "w") as dst:
        for info, data in items:
            dst.writestr(info, member.read_bytes() if info.filename ==
                         keras_zip.VARS_FILENAME else data)


def other_file(tmp_path):
    """Another HDF5 file with a kernel-shaped dataset holding the marker."""
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("w", data=MARKER_VALUES)
    return path


# -- the hostile edits: each replaces (or loops around) the kernel ------------------------------
def external_storage(f, kernel, tmp_path):
    marker = tmp_path / "marker.bin"
    marker.write_bytes(MARKER)
    del f[kernel]
    f.create_dataset(kernel, (4, 3), "<f4", external=[(str(marker), 0, len(MARKER))])
    return kernel, "marker.bin"


def external_link(f, kernel, tmp_path):
    other = other_file(tmp_path)
    del f[kernel]
    f[kernel] = h5py.ExternalLink(str(other), "/w")
    return kernel, "other.h5"


def soft_link(f, kernel, tmp_path):
    f.create_dataset("stash", data=MARKER_VALUES)
    del f[kernel]
    f[kernel] = h5py.SoftLink("/stash")
    return kernel, "/stash"


def soft_link_to_itself(f, kernel, tmp_path):
    del f[kernel]
    f[kernel] = h5py.SoftLink("/" + kernel)
    return kernel, "soft link"


def hard_link_cycle(f, kernel, tmp_path):
    group = kernel.split("/")[0]
    f[f"{group}/loop"] = f[group]
    return f"{group}/loop", "a cycle"


def hard_link_dag(f, kernel, tmp_path):
    f.create_dataset("stash", data=MARKER_VALUES)
    del f[kernel]
    f[kernel] = f["stash"]
    return kernel, "same HDF5 object as"


def virtual_dataset(f, kernel, tmp_path):
    layout = h5py.VirtualLayout(shape=(4, 3), dtype="<f4")
    layout[:] = h5py.VirtualSource(str(other_file(tmp_path)), "w", shape=(4, 3))
    del f[kernel]
    f.create_virtual_dataset(kernel, layout)
    return kernel, "virtual"


def unknown_filter(f, kernel, tmp_path):
    del f[kernel]
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((4, 3))
    # Optional: HDF5 writes the chunk unfiltered when the plugin is absent, so the marker is
    # in the file; a reader that accepted the filter id would look for a plugin to load.
    dcpl.set_filter(FILTER_ID, h5py.h5z.FLAG_OPTIONAL, ())
    space = h5py.h5s.create_simple((4, 3))
    dataset = h5py.Dataset(h5py.h5d.create(f.id, kernel.encode(), h5py.h5t.IEEE_F32LE, space,
                                           dcpl=dcpl))
    dataset[...] = MARKER_VALUES
    return kernel, str(FILTER_ID)


EDITS = [external_storage, external_link, soft_link, soft_link_to_itself, hard_link_cycle,
         hard_link_dag, virtual_dataset, unknown_filter]


def hostile_file(tmp_path, kind, edit):
    """(path, the name the error must give, another phrase it must hold)."""
    model = make_model()
    path = tmp_path / f"model.{kind}"
    save(model, path, kind)
    found = []
    edit_h5(path, lambda f, kernel, tmp: found.extend(edit(f, kernel, tmp)), kind, tmp_path)
    return path, found[0], found[1]


def assert_refused(call, error_type, *phrases):
    with pytest.raises(error_type) as info:
        call()
    message = str(info.value)
    for phrase in phrases:
        assert phrase in message, message
    assert MARKER.decode() not in message
    return message


def assert_untouched(model):
    for weight in model.weights:
        assert MARKER not in np.asarray(weight.numpy()).tobytes()
    np.testing.assert_array_equal(model.layers[-1].kernel.numpy(), np.full((4, 3), 0.5))


def pure_reader_file(path, kind):
    if kind != "keras":
        return lambda: pure_h5.File(path, "r")
    with zipfile.ZipFile(path) as zf:
        member = zf.read(keras_zip.VARS_FILENAME)
    return lambda: pure_h5.File(io.BytesIO(member), "r")


def loaders(path, kind):
    """(label, call) for every way webkeras reads `path`."""
    calls = [("pure_h5.File", pure_reader_file(path, kind))]
    if kind != "weights.h5":
        calls.append(("load_model", lambda: keras.saving.load_model(path)))
    if kind != "keras":
        calls.append(("load_weights", lambda: make_model().load_weights(path)))
    return calls


@pytest.fixture(params=["h5py", "pure_h5"])
def backend(request, monkeypatch):
    """Loaders read through h5py, or through the pure reader as in the tab."""
    if request.param == "pure_h5":
        monkeypatch.setattr(weights_h5, "_h5py", lambda: pure_h5)
    return request.param


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("edit", EDITS, ids=lambda e: e.__name__)
def test_loaders_refuse(tmp_path, kind, edit, backend):
    path, name, phrase = hostile_file(tmp_path, kind, edit)
    expected, phrases = UnsafeContentError, (name, phrase)
    if edit is unknown_filter and backend == "pure_h5":
        # The pure reader loads no plugins; it reads no filtered dataset at all.
        expected, phrases = ModelFileError, (name, "filtered")
    for label, call in loaders(path, kind):
        if label == "pure_h5.File" and backend == "h5py":
            continue
        message = assert_refused(call, expected, *phrases)
        assert path.name in message or (label == "pure_h5.File" and kind == "keras"), message
    # load_weights changed nothing before refusing.
    if kind != "keras":
        model = make_model()
        with pytest.raises(ModelFileError):
            model.load_weights(path)
        assert_untouched(model)


def test_external_storage_message_says_why(tmp_path):
    path, _, _ = hostile_file(tmp_path, "weights.h5", external_storage)
    message = assert_refused(lambda: make_model().load_weights(path), UnsafeContentError)
    assert f"'{path}': dataset '/layers/dense/vars/0' keeps its data in external file(s) " \
           f"['{tmp_path / 'marker.bin'}']" in message
    assert "HDF5 external storage would read another file on this machine; webkeras reads " \
           "only data inside the file" in message


def test_external_link_names_target(tmp_path):
    path, _, _ = hostile_file(tmp_path, "h5", external_link)
    for call in (lambda: keras.saving.load_model(path), lambda: pure_h5.File(path, "r")):
        assert_refused(call, UnsafeContentError, "'/model_weights/dense/dense/kernel' is an "
                       f"HDF5 external link to '/w' in file '{tmp_path / 'other.h5'}'")


@pytest.mark.parametrize("kind", KINDS)
def test_weight_bytes_limit(tmp_path, kind, backend):
    model = make_model()
    path = tmp_path / f"model.{kind}"
    save(model, path, kind)
    # Kernel 48 bytes + bias 12 bytes: over 50 at whichever dataset comes second.
    with file_limits.override(weight_bytes=50):
        for label, call in loaders(path, kind):
            if label == "pure_h5.File" and backend == "h5py":
                continue
            assert_refused(call, FileLimitError, "60 bytes", "limit of 50", "dataset '/",
                           "WEBKERAS_MAX_WEIGHT_BYTES")
    with file_limits.override(weight_bytes=60):
        for _, call in loaders(path, kind):
            call()


def test_object_limit(tmp_path, backend):
    path = tmp_path / "model.weights.h5"
    make_model().save_weights(path)
    with file_limits.override(hdf5_objects=3):
        assert_refused(lambda: make_model().load_weights(path), FileLimitError,
                       "(at '/", "limit of 3", "WEBKERAS_MAX_HDF5_OBJECTS")


def test_link_dag_is_refused_at_the_second_link(tmp_path):
    # Two links per level to the next group: 2**40 paths. Walking each would never end;
    # every reader refuses at the first object reached twice.
    path = tmp_path / "dag.weights.h5"
    with h5py.File(path, "w") as f:
        groups = [f.create_group(f"g{i}") for i in range(40)]
        for parent, child in zip(groups, groups[1:]):
            parent["a"], parent["b"] = child, child
    for call in (lambda: weights_h5.open_h5(path), lambda: pure_h5.File(path, "r")):
        assert_refused(call, UnsafeContentError, "is the same HDF5 object as",
                       "a second link to one object")


def test_reference_files_pass_the_check():
    # Every file Keras wrote for the interop tests is plain data inside the file.
    paths = sorted((REPO_ROOT / "tests" / "reference").rglob("*.h5"))
    assert paths
    for path in paths:
        with h5py.File(path, "r") as f:
            assert h5_safety.check_h5_tree(f, f"'{path.name}'") >= 0
        pure_h5.File(path, "r")


# -- the conversion server ----------------------------------------------------------------------
@pytest.fixture
def client(tmp_path):
    app = create_app(data_dir=tmp_path / "data", build_dir=tmp_path / "build")
    app.config["WEBKERAS_CONVERT_TMP"] = str(tmp_path / "convert-tmp")
    return app.test_client()


def post(client, path, kind):
    data = {"files": [(io.BytesIO(path.read_bytes()), path.name)]}
    if kind == "weights.h5":
        data["config"] = (io.BytesIO(make_model().to_json().encode()), "architecture.json")
    return client.post("/api/convert", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("edit", EDITS, ids=lambda e: e.__name__)
def test_server_refuses(client, tmp_path, kind, edit):
    path, name, phrase = hostile_file(tmp_path, kind, edit)
    response = post(client, path, kind)
    body = response.get_data()
    assert response.status_code == 400, body
    assert MARKER not in body and MARKER.decode() not in response.get_data(as_text=True)
    message = response.get_json()["message"]
    assert name in message and phrase in message, message
    assert path.name in message, message


def test_upload_check_weight_bytes_limit(tmp_path):
    # The server's own check of an upload (conversions run in a forked child whose limits
    # were read when the forkserver started, so `override` is tested here, in process).
    from webkeras.saving.conversion import uploads

    path = tmp_path / "model.h5"
    make_model().save(path)
    with file_limits.override(weight_bytes=50), pytest.raises(uploads.UploadError) as info:
        uploads.inspect_hdf5(path, "model.h5", 10 ** 6)
    assert info.value.status == 400
    assert "'model.h5' (up to dataset '/model_weights/dense/dense/" in str(info.value)
    assert "limit of 50" in str(info.value)
    assert uploads.inspect_hdf5(path, "model.h5", 10 ** 6)[0] == 60
