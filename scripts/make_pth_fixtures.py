#!/usr/bin/env python3
"""Build the PyTorch checkpoint fixtures for `src/models/pth.rs`.

Run from the repository root:

    /work/venv-cache/venv/bin/python scripts/make_pth_fixtures.py

(any Python with torch >= 1.6 works).  It writes into tests/fixtures/pth/:

    legacy.bin     torch.save(state, f, _use_new_zipfile_serialization=False)
                   -- the pre-1.6 "legacy" format: a sequence of pickles followed by raw
                   storage data (see torch/serialization.py, _legacy_save/_legacy_load)
    zip.bin        torch.save(state, f) -- the zip-based format (torch >= 1.6)
    expected.json  every tensor: name, dtype (candle's names: f32, f16, bf16, f64, i64),
                   shape and row-major flattened values

The state dict covers what the reader must get right: 2-D and 1-D f32 tensors, f16, bf16,
f64 and i64 tensors, three names sharing one storage (tied embeddings: the same tensor
object twice, which the pickler memoizes, and a second tensor object on the same storage),
slices with a non-zero storage offset (two of them on one storage, which also holds
elements no tensor uses), and a transposed (Fortran-contiguous) 2-D tensor.

The output is deterministic: values are small multiples of powers of two (exact in every
dtype) and the legacy format's storage keys, which torch takes from memory addresses
(`str(storage._cdata)`), are renamed in place to zero-padded ranks (same length) in order of first use,
and the key list and data section are rewritten in that order.  The script checks that a
second save gives identical bytes and that torch.load reads the files back unchanged.
"""

import collections
import io
import json
import os
import pickletools
import sys

import torch

torch.set_num_threads(1)

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "pth")

DTYPE_NAMES = {
    torch.float32: "f32",
    torch.float16: "f16",
    torch.bfloat16: "bf16",
    torch.float64: "f64",
    torch.int64: "i64",
}


def ramp(n, scale=0.25, shift=0.0):
    """n exactly representable values: (i - n/2) * scale + shift."""
    return (torch.arange(n, dtype=torch.float64) - n // 2) * scale + shift


def build_state():
    # Like nn.Module.state_dict(): an OrderedDict carrying a `_metadata` attribute, which the
    # pickler writes as a BUILD with the instance dict after the items.
    state = collections.OrderedDict()
    state._metadata = collections.OrderedDict([("", {"version": 1}), ("model", {"version": 1})])
    # Plain 2-D and 1-D f32 tensors.
    state["model.encoder.layers.0.fc1.weight"] = ramp(12, 0.5).reshape(4, 3).float()
    state["model.encoder.layers.0.fc1.bias"] = ramp(4, 0.125).float()
    # Other float dtypes.
    state["model.encoder.layer_norm.weight"] = ramp(5, 0.5, 1.0).half()
    state["model.decoder.layer_norm.bias"] = ramp(6, 0.0625).bfloat16()
    state["model.decoder.scale"] = ramp(3, 0.375).double().reshape(3, 1)
    # Tied embeddings: one tensor object under two names (memoized by the pickler) and a
    # second tensor object viewing the same storage.
    shared = ramp(18, 0.25).reshape(6, 3).float()
    state["model.shared.weight"] = shared
    state["model.encoder.embed_tokens.weight"] = shared
    state["lm_head.weight"] = shared.view(6, 3)
    # Slices with non-zero storage offsets; rows 0-1 and 4 of `base` belong to no tensor.
    base = ramp(20, 0.5, 0.25).reshape(5, 4).float()
    state["model.decoder.layers.0.fc2.weight"] = base[2:4]  # offset 8, shape (2, 4)
    state["model.decoder.layers.0.fc2.bias"] = base[1, 1:3]  # offset 5, shape (2,)
    # Transposed: shape (3, 2), strides (1, 3).
    state["model.decoder.layers.0.out_proj.weight"] = ramp(6, 1.5).reshape(2, 3).float().t()
    # i64, like a position_ids buffer.
    state["model.decoder.position_ids"] = torch.arange(7, dtype=torch.int64).reshape(1, 7) * 3 - 5
    return state


def pickle_ends(data):
    """Byte offsets just past the STOP of each of the first five pickles of a legacy file
    (magic number, protocol version, sys_info, main pickle, storage keys)."""
    ends = []
    pos = 0
    for _ in range(5):
        stream = io.BytesIO(data[pos:])
        for opcode, _arg, off in pickletools.genops(stream):
            if opcode.name == "STOP":
                pos += off + 1
                break
        ends.append(pos)
    return ends


def canonicalize_storage_keys(data, state):
    """Replace the address-derived storage keys of a legacy checkpoint by zero-padded ranks in
    order of first use, and reorder the key list and data section to match.

    torch names each storage `str(storage._cdata)` (a pointer), lists the keys sorted as
    strings and writes the data in that order, so both the names and the order of the data
    change from run to run.  The keys are recomputed here from the live tensors of `state`.
    """
    import pickle

    ends = pickle_ends(data)
    old_sorted = pickle.loads(data[ends[3] : ends[4]])
    if pickle.dumps(old_sorted, protocol=2) != data[ends[3] : ends[4]]:
        sys.exit("the storage-key pickle is not a plain protocol-2 pickle of the key list")

    elsize = {}
    for tensor in state.values():
        key = str(tensor.untyped_storage()._cdata)
        elsize.setdefault(key, tensor.element_size())
    first_use = list(elsize)
    if sorted(first_use) != old_sorted:
        sys.exit(f"storage keys {old_sorted} do not match the state dict's storages {first_use}")
    width = len(first_use[0])
    if any(len(k) != width for k in first_use):
        sys.exit(f"storage keys of different lengths, cannot rename in place: {first_use}")
    rename = {key: str(rank).zfill(width) for rank, key in enumerate(first_use)}

    main_pickle = data[ends[2] : ends[3]]
    for old, new in rename.items():
        old_b = b"X" + len(old).to_bytes(4, "little") + old.encode()
        new_b = b"X" + len(new).to_bytes(4, "little") + new.encode()
        if main_pickle.count(old_b) == 0:
            sys.exit(f"storage key {old} not found in the main pickle")
        main_pickle = main_pickle.replace(old_b, new_b)

    chunks = {}
    pos = ends[4]
    for key in old_sorted:
        count = int.from_bytes(data[pos : pos + 8], "little", signed=True)
        size = 8 + count * elsize[key]
        chunks[key] = data[pos : pos + size]
        pos += size
    if pos != len(data):
        sys.exit(f"data section has {len(data) - pos} unexpected trailing bytes")

    out = data[: ends[2]] + main_pickle + pickle.dumps([rename[k] for k in first_use], protocol=2)
    return out + b"".join(chunks[k] for k in first_use)


def save_bytes(state, **kwargs):
    buf = io.BytesIO()
    torch.save(state, buf, **kwargs)
    return buf.getvalue()


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    state = build_state()

    legacy = canonicalize_storage_keys(save_bytes(state, _use_new_zipfile_serialization=False), state)
    state_again = build_state()
    legacy_again = canonicalize_storage_keys(
        save_bytes(state_again, _use_new_zipfile_serialization=False), state_again
    )
    zipped = save_bytes(state)
    zipped_again = save_bytes(state_again)
    if legacy != legacy_again or zipped != zipped_again:
        sys.exit("torch.save is not deterministic here; fixtures would change on every run")

    # The files must still load in torch, with the sharing intact.
    for blob in (legacy, zipped):
        loaded = torch.load(io.BytesIO(blob), weights_only=True)
        assert list(loaded) == list(state)
        for name, tensor in state.items():
            assert loaded[name].dtype == tensor.dtype and torch.equal(loaded[name], tensor), name
        assert loaded["lm_head.weight"].untyped_storage().data_ptr() == loaded["model.shared.weight"].untyped_storage().data_ptr()

    with open(os.path.join(OUT_DIR, "legacy.bin"), "wb") as f:
        f.write(legacy)
    with open(os.path.join(OUT_DIR, "zip.bin"), "wb") as f:
        f.write(zipped)

    expected = [
        {
            "name": name,
            "dtype": DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "values": [int(v) if t.dtype == torch.int64 else float(v) for v in t.reshape(-1).tolist()],
        }
        for name, t in state.items()
    ]
    with open(os.path.join(OUT_DIR, "expected.json"), "w") as f:
        json.dump({"tensors": expected}, f, indent=1)
        f.write("\n")
    # A whole Marian checkpoint in the legacy format, as 2020-era opus-mt repos ship it: the
    # integration tests load it in place of marian-tiny-relu's zip-format pytorch_model.bin.
    relu_path = os.path.join(OUT_DIR, "..", "marian-tiny-relu", "pytorch_model.bin")
    relu = torch.load(relu_path, weights_only=True)
    relu_legacy = canonicalize_storage_keys(save_bytes(relu, _use_new_zipfile_serialization=False), relu)
    reloaded = torch.load(io.BytesIO(relu_legacy), weights_only=True)
    assert list(reloaded) == list(relu)
    for name, tensor in relu.items():
        assert torch.equal(reloaded[name], tensor), name
    with open(os.path.join(OUT_DIR, "marian-tiny-relu-legacy.bin"), "wb") as f:
        f.write(relu_legacy)

    for name in ("legacy.bin", "zip.bin", "expected.json", "marian-tiny-relu-legacy.bin"):
        print(f"{name}: {os.path.getsize(os.path.join(OUT_DIR, name))} bytes")


if __name__ == "__main__":
    main()
