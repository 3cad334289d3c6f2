"""The built-in trial: a multilayer perceptron in torch, for classification or regression.

``train(params, ctx)`` follows the trial contract. Every knob has a default below, so a params
file searches only the knobs it names and fixes others in ``trial.options``. The training tricks
researchers ablate (residual, lr_schedule, label_smoothing, input_noise) default to off, and off
they leave training exactly as it was before they existed, so earlier results stay comparable.
On CPU a seed gives the same metrics bit for bit (deterministic algorithms, seeded generators).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ablate.errors import TrialError

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "silu": nn.SiLU, "elu": nn.ELU}
OPTIMIZERS = ("adam", "adamw", "sgd")
LR_SCHEDULES = ("constant", "cosine")

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class MLPParams:
    hidden_layers: int = 2  # depth; 0 is a linear model
    hidden_units: int = 128  # width of every hidden layer
    activation: str = "relu"
    dropout: float = 0.0  # after every hidden activation
    batchnorm: bool = False  # before every hidden activation
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    momentum: float = 0.9  # sgd's only (search it with `when: {optimizer: sgd}`); adam and adamw ignore it
    batch_size: int = 64
    epochs: int = 20
    residual: bool = False  # h = h + block(h) around every hidden block after the first; see build_mlp
    lr_schedule: str = "constant"  # or "cosine": from lr down to 0 over the epochs, stepped per epoch
    label_smoothing: float = 0.0  # classification only: the share of target mass spread over all classes
    input_noise: float = 0.0  # std of Gaussian noise on each train batch's standardized inputs

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> MLPParams:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise TrialError(f"mlp: unknown params {unknown}; known: {sorted(known)}")
        p = cls(**params)
        if p.activation not in ACTIVATIONS:
            raise TrialError(f"mlp: activation must be one of {sorted(ACTIVATIONS)}, but got {p.activation!r}")
        if p.optimizer not in OPTIMIZERS:
            raise TrialError(f"mlp: optimizer must be one of {OPTIMIZERS}, but got {p.optimizer!r}")
        if p.lr_schedule not in LR_SCHEDULES:
            raise TrialError(f"mlp: lr_schedule must be one of {LR_SCHEDULES}, but got {p.lr_schedule!r}")
        if not 0 <= p.label_smoothing < 1:  # also false for NaN
            raise TrialError(f"mlp: label_smoothing must be in [0, 1), but got {p.label_smoothing!r}")
        if not 0 <= p.momentum < 1:
            raise TrialError(f"mlp: momentum must be in [0, 1), but got {p.momentum!r}")
        if not 0 <= p.input_noise < math.inf:
            raise TrialError(f"mlp: input_noise must be in [0, inf), but got {p.input_noise!r}")
        return p


class Residual(nn.Sequential):
    """``h + block(h)``: its layers in order, around an identity skip."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + super().forward(h)


def build_mlp(n_in: int, n_out: int, p: MLPParams) -> nn.Sequential:
    """Linear, then per hidden layer [batchnorm], activation, [dropout], Linear.

    With ``residual`` each hidden block after the first becomes ``h = h + block(h)`` with
    ``block = [batchnorm], activation, [dropout], Linear``: the pre-activation form (He et al.
    2016, "Identity Mappings in Deep Residual Networks"; the tabular ResNet of Gorishniy et al.
    2021). Its skip path is a pure identity from the first Linear to the head, so gradients reach
    early layers undamped, and the sum is not forced non-negative as it would be if taken after a
    ReLU. It is the plain network's very layers plus the skips, so residual is the only difference
    between two arms. With one hidden layer there is no block to skip around.
    """
    width = int(p.hidden_units)
    if int(p.hidden_layers) == 0:
        return nn.Sequential(nn.Linear(n_in, n_out))
    layers: list[nn.Module] = [nn.Linear(n_in, width)]  # modules made in the same order, so same init
    for _ in range(int(p.hidden_layers) - 1):
        block = [*_activate(width, p), nn.Linear(width, width)]
        layers += [Residual(*block)] if p.residual else block
    return nn.Sequential(*layers, *_activate(width, p), nn.Linear(width, n_out))


def _activate(width: int, p: MLPParams) -> list[nn.Module]:
    """What follows every hidden Linear."""
    norm = [nn.BatchNorm1d(width)] if p.batchnorm else []
    drop = [nn.Dropout(float(p.dropout))] if p.dropout > 0 else []
    return [*norm, ACTIVATIONS[p.activation](), *drop]


def _optimizer(model: nn.Module, p: MLPParams) -> torch.optim.Optimizer:
    if p.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=p.lr, momentum=p.momentum, weight_decay=p.weight_decay)
    cls = torch.optim.AdamW if p.optimizer == "adamw" else torch.optim.Adam
    return cls(model.parameters(), lr=p.lr, weight_decay=p.weight_decay)


def schedule_lr(opt: torch.optim.Optimizer, p: MLPParams) -> torch.optim.lr_scheduler.LRScheduler:
    """The learning rate per epoch: call ``step()`` after each. Cosine reaches 0 after the last."""
    if p.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, int(p.epochs)))
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)  # lr * 1.0: the very same float


def train(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """Train on ``ctx.load_data()``, report every epoch, save ``model.pt``, return final metrics
    (and ``n_params``, the trainable parameters: a size to trade against accuracy).

    Where ``ctx.score_test`` is true (ablation arms), the final model is also scored on the
    held-out test split (``test_*`` metrics, not reported per epoch); elsewhere the test split is
    never loaded.
    """
    p = MLPParams.from_dict(params)
    classify = ctx.task == "classification"
    if not classify and p.label_smoothing != 0:
        raise TrialError(f"mlp: label_smoothing must be 0 for a regression task, but got {p.label_smoothing!r}")
    device = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    X_tr, y_tr, X_va, y_va = _tensors(ctx.load_data(), classify, device)
    model = build_mlp(X_tr.shape[1], ctx.n_classes if classify else 1, p).to(device)
    opt = _optimizer(model, p)
    schedule = schedule_lr(opt, p)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=float(p.label_smoothing)) if classify else _mse
    batches = torch.Generator().manual_seed(ctx.seed)  # batch order: ours, not the global RNG's
    # Noise has a generator of its own, made only when used: the default draws nothing anywhere.
    noise = torch.Generator().manual_seed(_derived_seed(ctx.seed, "input_noise")) if p.input_noise > 0 else None
    metrics: dict[str, float] = {}
    for epoch in range(1, int(p.epochs) + 1):
        train_loss = _train_epoch(model, opt, loss_fn, X_tr, y_tr, p, batches, noise)
        schedule.step()
        metrics = {"train_loss": train_loss, **evaluate(model, X_va, y_va, classify=classify, prefix="val")}
        ctx.report(epoch, metrics)
    torch.save(model.state_dict(), ctx.out_dir / "model.pt")
    # The model's size, an objective to trade against accuracy (constant over epochs: returned once).
    metrics = {**metrics, "n_params": float(sum(w.numel() for w in model.parameters() if w.requires_grad))}
    if ctx.score_test:
        X_te, y_te = _tensors(ctx.load_test(), classify, device)
        metrics = {**metrics, **evaluate(model, X_te, y_te, classify=classify, prefix="test")}
    return metrics


def _tensors(arrays: tuple[np.ndarray, ...], classify: bool, device: torch.device) -> list[torch.Tensor]:
    """``(X, y, X, y, ...)`` on ``device``; regression targets as float32 like the outputs."""
    out = [torch.as_tensor(a).to(device) for a in arrays]
    return [t.float() if i % 2 and not classify else t for i, t in enumerate(out)]


def _mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(out.squeeze(1), y)  # out: (N, 1), y: (N,)


def _derived_seed(seed: int, purpose: str) -> int:
    """A seed of its own for each purpose, so its stream is independent of the trial seed's."""
    return int(hashlib.sha256(f"{seed}:{purpose}".encode()).hexdigest()[:16], 16)


def _train_epoch(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    loss_fn: Loss,
    X: torch.Tensor,
    y: torch.Tensor,
    p: MLPParams,
    batches: torch.Generator,
    noise: torch.Generator | None,
) -> float:
    model.train()
    order = torch.randperm(len(X), generator=batches).to(X.device)
    has_batchnorm = any(isinstance(m, nn.BatchNorm1d) for m in model.modules())
    batch_size = int(p.batch_size)
    total = 0.0
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        if len(idx) < 2 and has_batchnorm:
            continue  # batchnorm cannot train on a batch of one
        xb = X[idx]  # (B, n_features)
        if noise is not None:  # drawn on the CPU, so a seed gives the same noise on any device
            xb = xb + float(p.input_noise) * torch.randn(xb.shape, generator=noise).to(X.device)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), y[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total / len(X)


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, classify: bool, prefix: str) -> dict[str, float]:
    """``<prefix>_loss`` and ``_accuracy``, or ``_loss``, ``_rmse`` and ``_r2``, of ``model`` on X, y.

    The loss is the plain cross-entropy or mean squared error, whatever label smoothing trained
    the model: arms that differ in ``label_smoothing`` are compared on the same scale.
    """
    model.eval()
    out = model(X)
    if classify:
        acc = (out.argmax(1) == y).float().mean()
        return {f"{prefix}_loss": float(F.cross_entropy(out, y)), f"{prefix}_accuracy": float(acc)}
    mse = float(_mse(out, y))
    var = float(torch.var(y, unbiased=False))
    r2 = 1.0 - mse / var if var > 0 else 0.0
    return {f"{prefix}_loss": mse, f"{prefix}_rmse": float(np.sqrt(mse)), f"{prefix}_r2": r2}
