"""twotower's model equals the PyTorch reference's on the same weights, in both directions.

The reference model (../shared/reference/seed_reference.py, TwoTower) is built in PyTorch; its
weights go to twotower as .npy files under twotower's parameter names, with the reference's BCE
loss and embeddings of a fixed batch; the C++ side (the ModelInterop.ReferenceWeightsGiveTheReferenceLoss
test of twotower_tests) loads the weights and asserts it computes the same. It also exports the
weights of its own freshly initialized model, which are loaded back into the PyTorch model here.
Losses and embeddings must agree to float32 precision.
"""
import importlib.util
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "seed_reference.py"
TESTS = Path(os.environ.get("TWOTOWER_TESTS", ROOT / "build" / "tests" / "twotower_tests"))

# twotower's checkpoint names -> the reference module's state_dict names.
PREFIXES = [
    ("user_tower.embedding.", "user."),
    ("user_tower.mlp.", "user_mlp."),
    ("item_tower.embedding.", "item."),
    ("item_tower.category_embedding.", "cat."),
    ("item_tower.brand_embedding.", "brand."),
    ("item_tower.text_projection.", "text."),
    ("item_tower.mlp.", "item_mlp."),
]


def to_reference_name(name):
    for ours, theirs in PREFIXES:
        if name.startswith(ours):
            return theirs + name[len(ours):]
    raise KeyError(name)


def to_our_name(name):
    for ours, theirs in PREFIXES:
        if name.startswith(theirs):
            return ours + name[len(theirs):]
    raise KeyError(name)


def load_reference():
    spec = importlib.util.spec_from_file_location("seed_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_loss(model, users, items, labels, text, scale):
    logit = scale * (model.users(users) * model.items(items, text)).sum(-1)
    return F.binary_cross_entropy_with_logits(logit, labels).item()


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"reference absent: {REFERENCE}")
@pytest.mark.skipif(not TESTS.exists(), reason=f"test binary absent: {TESTS} (make build)")
def test_loss_matches_pytorch_both_ways(tmp_path):
    ref = load_reference()
    nu, ni, text_dim, d, hidden, scale = 7, 9, 5, 8, [16, 8], 3.0
    torch.manual_seed(0)
    model = ref.TwoTower(nu, ni, text_dim, d=d, hidden=tuple(hidden)).eval()
    for w in (model.user.weight, model.item.weight, model.cat.weight, model.brand.weight):
        torch.nn.init.normal_(w, std=0.5)
    text = torch.randn(ni, text_dim)
    users = torch.randint(nu, (12,))
    items = torch.randint(ni, (12,))
    labels = torch.cat([torch.ones(6), torch.zeros(6)])

    json.dump({"num_users": nu, "num_items": ni, "text_dim": text_dim, "d": d, "hidden": hidden,
               "logit_scale": scale}, open(tmp_path / "meta.json", "w"))
    np.save(tmp_path / "users.npy", users.numpy().astype(np.float32))
    np.save(tmp_path / "items.npy", items.numpy().astype(np.float32))
    np.save(tmp_path / "labels.npy", labels.numpy().astype(np.float32))
    np.save(tmp_path / "text.npy", text.numpy().astype(np.float32))
    (tmp_path / "python_params").mkdir()
    for name, p in model.state_dict().items():
        arr = p.detach().numpy().astype(np.float32)
        np.save(tmp_path / "python_params" / f"{to_our_name(name)}.npy", arr.reshape(arr.shape[0], -1))

    with torch.no_grad():
        expected = reference_loss(model, users, items, labels, text, scale)
        np.save(tmp_path / "expected_user_emb.npy", model.users(users).numpy().astype(np.float32))
        np.save(tmp_path / "expected_item_emb.npy", model.items(items, text).numpy().astype(np.float32))
    json.dump({"imported_loss": expected}, open(tmp_path / "expected.json", "w"))

    env = dict(os.environ, TWOTOWER_INTEROP_DIR=str(tmp_path))
    test = "ModelInterop.ReferenceWeightsGiveTheReferenceLoss"
    run = subprocess.run([str(TESTS), f"--gtest_filter={test}"], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[  PASSED  ] 1 test" in run.stdout, run.stdout  # it ran: neither skipped nor filtered out
    result = json.load(open(tmp_path / "cpp_result.json"))

    with torch.no_grad():
        # The other way: twotower's initialized weights, loaded into the reference model.
        exported = {p.name[:-4]: p for p in (tmp_path / "cpp_params").glob("*.npy")}  # not the .crc32 sidecars
        fresh = ref.TwoTower(nu, ni, text_dim, d=d, hidden=tuple(hidden)).eval()
        state = fresh.state_dict()
        assert {to_reference_name(n) for n in exported} == set(state)
        for name, path in exported.items():
            key = to_reference_name(name)
            state[key] = torch.from_numpy(np.load(path)).reshape(state[key].shape)
        fresh.load_state_dict(state)
        assert result["fresh_loss"] == pytest.approx(reference_loss(fresh, users, items, labels, text, scale),
                                                     abs=1e-5)
