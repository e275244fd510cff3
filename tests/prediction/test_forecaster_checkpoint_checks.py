"""A learned-forecaster checkpoint is checked before any network is built: a config of every
architecture field in range and nothing else, tensors of the shapes that config implies,
floating point and finite; each refusal one DataError naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from drivestack.core.checkpoints import check_state_dict
from drivestack.core.errors import DataError
from drivestack.prediction import learned
from drivestack.prediction.learned import (
    ForecasterConfig,
    ForecasterNet,
    LearnedForecaster,
    load_forecaster,
    save_forecaster,
)

SMALL = ForecasterConfig(horizon_steps=10, modes=2, hidden=32)


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A small random forecaster's checkpoint and its contents."""
    torch.manual_seed(0)
    path = tmp_path / "f.pt"
    save_forecaster(path, LearnedForecaster(SMALL, ForecasterNet(SMALL), {"seed": 0}))
    return path, torch.load(path, weights_only=True)


def _save(tmp_path: Path, name: str, ckpt: dict[str, Any], **changes: Any) -> Path:
    path = tmp_path / name
    torch.save({**ckpt, **changes}, path)
    return path


def test_a_huge_config_is_refused_before_anything_is_allocated(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, ckpt = saved
    huge = _save(tmp_path, "huge.pt", ckpt, config={**ckpt["config"], "hidden": 10**7})

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a network was built for a config that is refused")

    with monkeypatch.context() as patched:  # refused before any network, even on meta
        patched.setattr(learned, "ForecasterNet", never)
        with pytest.raises(
            DataError, match=r"huge\.pt: field config\.hidden: .*<= 4096, got 10000000"
        ):
            load_forecaster(huge)
    for key, value in (("modes", 65), ("horizon_steps", 1001), ("layers", 17)):
        bad = _save(tmp_path, f"{key}.pt", ckpt, config={**ckpt["config"], key: value})
        with pytest.raises(DataError, match=rf"field config\.{key}: .*got {value}"):
            load_forecaster(bad)


def test_shapes_are_compared_before_a_real_network_is_built(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The largest config in range (a 2 GB network) with the small tensors: refused by their
    shapes from a network on torch's meta device only."""
    _, ckpt = saved
    devices: list[torch.device] = []
    real_init = ForecasterNet.__init__

    def init(self: ForecasterNet, cfg: ForecasterConfig) -> None:
        devices.append(torch.get_default_device())
        real_init(self, cfg)

    monkeypatch.setattr(ForecasterNet, "__init__", init)
    big = {**ckpt["config"], "hidden": 4096, "layers": 16, "modes": 64, "horizon_steps": 1000}
    path = _save(tmp_path, "big.pt", ckpt, config=big)
    with pytest.raises(DataError, match=r"big\.pt: field state_dict: weights do not fit .* shape"):
        load_forecaster(path)
    assert devices == [torch.device("meta")]


def test_a_value_that_is_not_a_tensor_is_named(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    _, ckpt = saved
    state = {**ckpt["state_dict"], "logits.bias": [0.0, 0.0]}
    path = _save(tmp_path, "list.pt", ckpt, state_dict=state)
    with pytest.raises(DataError, match=r"list\.pt: field state_dict\.logits\.bias: not a tensor"):
        load_forecaster(path)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_are_refused_at_load_naming_the_tensor(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path, value: float
) -> None:
    _, ckpt = saved
    state = {k: v.clone() for k, v in ckpt["state_dict"].items()}
    state["residual.weight"][3, 1] = value
    path = _save(tmp_path, "nan.pt", ckpt, state_dict=state)
    with pytest.raises(
        DataError, match=r"nan\.pt: field state_dict\.residual\.weight: NaN or infinite weights"
    ):
        load_forecaster(path)


def test_integer_tensors_are_refused_and_float64_ones_load_unchanged(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, ckpt = saved
    state = {**ckpt["state_dict"], "logits.bias": torch.tensor([1, -2], dtype=torch.int64)}
    ints = _save(tmp_path, "int.pt", ckpt, state_dict=state)
    with pytest.raises(
        DataError, match=r"int\.pt: field state_dict\.logits\.bias: torch\.int64 tensor"
    ):
        load_forecaster(ints)
    state = {**ckpt["state_dict"], "logits.bias": torch.tensor([True, False])}
    with pytest.raises(DataError, match=r"field state_dict\.logits\.bias: torch\.bool tensor"):
        load_forecaster(_save(tmp_path, "bool.pt", ckpt, state_dict=state))
    # float64 weights are the same numbers (float32 values widened): loaded as they were
    wide = {k: v.double() for k, v in ckpt["state_dict"].items()}
    a = load_forecaster(path).net.state_dict()
    b = load_forecaster(_save(tmp_path, "f64.pt", ckpt, state_dict=wide)).net.state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())


@pytest.mark.parametrize("key", list(learned.ARCHITECTURE_FIELDS))
def test_every_architecture_field_is_required(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path, key: str
) -> None:
    _, ckpt = saved
    config = {k: v for k, v in ckpt["config"].items() if k != key}
    path = _save(tmp_path, "partial.pt", ckpt, config=config)
    with pytest.raises(DataError, match=rf"partial\.pt: field config\.{key}: missing"):
        load_forecaster(path)


def test_unknown_config_keys_and_no_config_are_refused(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    _, ckpt = saved
    path = _save(tmp_path, "extra.pt", ckpt, config={**ckpt["config"], "dropout": 0.1})
    with pytest.raises(DataError, match=r"extra\.pt: field config\.dropout: unknown key"):
        load_forecaster(path)
    for config in (None, [1, 2]):
        with pytest.raises(DataError, match=r"none\.pt: field config: checkpoint has no config"):
            load_forecaster(_save(tmp_path, "none.pt", ckpt, config=config))


def test_check_state_dict_counts_each_kind_of_misfit() -> None:
    with torch.device("meta"):
        own = ForecasterNet(SMALL).state_dict()
    state = {k: torch.zeros(v.shape) for k, v in own.items()}
    check_state_dict(state, own, "x.pt")  # fits
    del state["trunk.0.bias"]
    state["extra"] = torch.zeros(1)
    state["logits.bias"] = torch.zeros(3)
    with pytest.raises(DataError, match=r"x\.pt: field state_dict: ") as info:
        check_state_dict(state, own, "x.pt")
    text = str(info.value)
    assert "1 missing (e.g. ['trunk.0.bias'])" in text
    assert "1 unexpected (e.g. ['extra'])" in text
    assert "1 of another shape (e.g. ['logits.bias'])" in text
    with pytest.raises(DataError, match=r"x\.pt: field state_dict: checkpoint has no state_dict"):
        check_state_dict([1], own, "x.pt")


def test_cut_checkpoints_say_empty_or_truncated(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """torch 2.14 raises OSError (Errno 22) for a zip cut in half, "not a ZIP archive" for
    one cut to 10 bytes and "failed finding central directory" for one a byte short."""
    path, _ = saved
    data = path.read_bytes()
    for n in (len(data) // 2, 10, len(data) - 1, 100, 0):
        cut = tmp_path / "cut.pt"
        cut.write_bytes(data[:n])
        with pytest.raises(DataError) as info:
            load_forecaster(cut)
        assert str(info.value) == f"{cut}: not a torch checkpoint (empty or truncated file)", n
    # a file that is not a zip archive at all keeps its own reason
    (tmp_path / "text.pt").write_text("hello world")
    with pytest.raises(DataError, match=r"not a torch checkpoint \(neither"):
        load_forecaster(tmp_path / "text.pt")


def test_finite_but_absurd_weights_are_refused_on_loading(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Was: a first layer scaled by 1e30 loaded, and eval prediction reported ADE@3s 4.4e29 m;
    every tensor scaled gave 'MultiModalForecast ... NaN or inf values' naming no file."""
    _, ckpt = saved
    state = dict(ckpt["state_dict"])
    first = next(k for k, v in state.items() if v.is_floating_point() and v.dim() == 2)
    state[first] = state[first] * 1e30
    scaled = _save(tmp_path, "scaled.pt", ckpt, state_dict=state)
    with pytest.raises(
        DataError, match=r"scaled\.pt: field state_dict: its weights (forecast a car|give no valid)"
    ):
        load_forecaster(scaled)


@pytest.mark.parametrize(
    ("provenance", "field"),
    [
        ({"holdout_top_mode_ade_m": torch.tensor(1.0)}, "provenance.holdout_top_mode_ade_m"),
        ({"runs": [1, {"loss": torch.zeros(2)}]}, "provenance.runs[1].loss"),
        ({"by_seq": {3: "x"}}, "provenance.by_seq"),
        ([1, 2], "provenance"),
    ],
)
def test_provenance_must_hold_plain_values(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path, provenance: Any, field: str
) -> None:
    # a tensor in the provenance passed every load check, then failed the evaluation's
    # metrics.json (TypeError: Tensor is not JSON serializable) after all its work
    _, ckpt = saved
    bad = _save(tmp_path, "bad.pt", ckpt, provenance=provenance)
    with pytest.raises(DataError) as err:
        load_forecaster(bad)
    assert (err.value.path, err.value.field) == (str(bad), field)
    plain = {"seed": 0, "splits": ["0000"], "losses": {"train": [0.5, None]}, "ok": True}
    assert load_forecaster(_save(tmp_path, "ok.pt", ckpt, provenance=plain)).provenance == plain
