"""int8 on CPU: torch dynamic quantisation of a sentence-transformers model's Linear layers,
with SmoothQuant-style smoothing (Xiao et al., 2023) where plain int8 loses most.

Dynamic quantisation gives each Linear's input one int8 scale for the whole tensor. A few input
channels of a BERT layer's feed-forward network carry values far larger than the rest, so the
others lose their precision. Smoothing divides such a channel by s and multiplies the matching
weight column by s: the product is the same and the activation range flatter, while the weight,
whose values are small, has room for the larger column. s = max|x|^a / max|w|^(1-a), with max|x|
measured once on shipped calibration passages and kept beside the models (bench/RESULTS.md:
cosine to fp32 0.982 → 0.996 at the 1st percentile, for about 4% of int8's speed).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from pathlib import Path

import torch

log = logging.getLogger(__name__)

CALIBRATION_TEXTS = Path(__file__).resolve().parents[1] / "data" / "int8_calibration.txt"
ALPHA = 0.75  # how much of an activation outlier moves into the weights (0.65–0.8 measured alike)


def _smoothed_kind(name: str) -> str | None:
    """Which smoothing a Linear layer gets, by its BERT-family name; None for the rest.
    "value": the attention output's input is a mix of the value projection's outputs, so the
    scale folds into that projection at no cost. "input": the input is multiplied by 1/s on the
    way in (after GELU, or a LayerNorm whose output also feeds the residual, nothing can absorb it)."""
    if name.endswith("attention.output.dense"):
        return "value"
    if name.endswith("intermediate.dense") or name.endswith("output.dense"):
        return "input"
    return None


def calibration_key(folder: Path) -> str:
    """What the stored activation ranges depend on: the model's files (names, sizes, times) and
    the calibration passages."""
    digest = hashlib.sha256(CALIBRATION_TEXTS.read_bytes())
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        st = path.stat()
        digest.update(f"{path.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:24]


def activation_ranges(model, encode) -> dict:
    """max |x| per input channel of every smoothed Linear layer, over the calibration passages
    embedded with `encode(model, texts)` in floating point."""
    texts = [t for t in CALIBRATION_TEXTS.read_text(encoding="utf-8").splitlines() if t.strip()]
    ranges: dict = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and _smoothed_kind(name):
            def record(_m, inputs, _out, name=name):
                x = inputs[0].detach()
                top = x.reshape(-1, x.shape[-1]).abs().amax(0).float()
                ranges[name] = torch.maximum(ranges[name], top) if name in ranges else top
            hooks.append(module.register_forward_hook(record))
    try:
        with torch.inference_mode():
            encode(model, texts)
    finally:
        for hook in hooks:
            hook.remove()
    return ranges


def load_ranges(cache: Path, model, encode) -> dict:
    """The activation ranges stored at `cache`, else measured (once, some seconds) and stored. Two
    processes measuring at once each write their own file and the last rename wins (the same
    ranges); a folder that cannot be written to only means measuring again next time."""
    from safetensors.torch import load_file, save_file

    if cache.exists():
        try:
            return load_file(str(cache))
        except Exception as exc:  # a damaged file is measured again, never trusted
            log.warning("int8 校准文件无法读取（%s），重新校准", exc)
    log.info("首次以 int8 运行此模型：正在校准（仅一次）……")
    ranges = activation_ranges(model, encode)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=cache.parent, prefix=cache.name, suffix=".partial")
        os.close(handle)
        try:
            save_file({k: v.contiguous() for k, v in ranges.items()}, partial)
            os.replace(partial, cache)
        finally:
            Path(partial).unlink(missing_ok=True)
    except OSError as exc:
        log.warning("int8 校准结果无法保存到 %s（%s），下次启动将重新校准", cache.parent, exc)
    return ranges


class ScaledLinear(torch.nn.Module):
    """x ↦ linear(x / s): the division runs in float, before the Linear quantises its input."""

    def __init__(self, inverse_scale: torch.Tensor, linear: torch.nn.Linear):
        super().__init__()
        self.register_buffer("inverse_scale", inverse_scale)
        self.linear = linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x * self.inverse_scale)


def smooth(model, ranges: dict, alpha: float = ALPHA) -> int:
    """Moves activation outliers into the weights of the layers in `ranges`; returns how many."""
    modules = dict(model.named_modules())
    done = 0
    with torch.no_grad():
        for name, top in ranges.items():
            linear = modules.get(name)
            kind = _smoothed_kind(name)
            if not isinstance(linear, torch.nn.Linear) or top.shape != (linear.in_features,):
                continue
            weight_top = linear.weight.abs().amax(0).float().clamp(min=1e-5)
            s = (top.clamp(min=1e-5) ** alpha / weight_top ** (1 - alpha)).clamp(min=1e-5)
            parent, _, attr = name.rpartition(".")
            value = modules.get(parent.rpartition(".")[0] + ".self.value") if kind == "value" else None
            if kind == "value" and not (isinstance(value, torch.nn.Linear) and value.out_features == s.numel()):
                continue
            linear.weight.mul_(s.to(linear.weight.dtype)[None, :])
            if value is not None:
                value.weight.div_(s.to(value.weight.dtype)[:, None])
                if value.bias is not None:
                    value.bias.div_(s.to(value.bias.dtype))
            else:
                setattr(modules[parent], attr, ScaledLinear((1.0 / s).to(linear.weight.dtype), linear))
            done += 1
    return done


def quantise(model) -> None:
    """The Linear layers of the model's transformer to int8 weights with per-channel scales,
    activations quantised on the fly. What follows the transformer (a query adapter) stays in
    float: one small product per query, and quantised it cost the query vectors most of their
    accuracy (cosine to fp32 0.977 instead of 0.996 at the 1st percentile)."""
    from sentence_transformers.base.modules.transformer import Transformer

    parts = [m for m in model.modules() if isinstance(m, Transformer)] or [model]
    with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao on each call
        warnings.simplefilter("ignore")
        for part in parts:
            torch.ao.quantization.quantize_dynamic(
                part, {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}, dtype=torch.qint8,
                inplace=True)
