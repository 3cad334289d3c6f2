"""The built-in trial: a multilayer perceptron in torch, for classification or regression.

``train(params, ctx)`` follows the trial contract. Every knob has a default below, so a params
file searches only the knobs it names and fixes others in ``trial.options``. On CPU a seed gives
the same metrics bit for bit (deterministic algorithms, one seeded generator for the batches).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import nn

from ablate.errors import TrialError

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "silu": nn.SiLU, "elu": nn.ELU}
OPTIMIZERS = ("adam", "adamw", "sgd")


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
    batch_size: int = 64
    epochs: int = 20

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
        return p


def build_mlp(n_in: int, n_out: int, p: MLPParams) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(int(p.hidden_layers)):
        layers.append(nn.Linear(width, int(p.hidden_units)))
        if p.batchnorm:
            layers.append(nn.BatchNorm1d(int(p.hidden_units)))
        layers.append(ACTIVATIONS[p.activation]())
        if p.dropout > 0:
            layers.append(nn.Dropout(float(p.dropout)))
        width = int(p.hidden_units)
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def _optimizer(model: nn.Module, p: MLPParams) -> torch.optim.Optimizer:
    if p.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=p.lr, momentum=0.9, weight_decay=p.weight_decay)
    cls = torch.optim.AdamW if p.optimizer == "adamw" else torch.optim.Adam
    return cls(model.parameters(), lr=p.lr, weight_decay=p.weight_decay)


def train(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """Train on ``ctx.load_data()``, report every epoch, save ``model.pt``, return final metrics."""
    p = MLPParams.from_dict(params)
    classify = ctx.task == "classification"
    device = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    X_tr, y_tr, X_va, y_va = (torch.as_tensor(a).to(device) for a in ctx.load_data())
    if not classify:
        y_tr, y_va = y_tr.float(), y_va.float()
    model = build_mlp(X_tr.shape[1], ctx.n_classes if classify else 1, p).to(device)
    opt = _optimizer(model, p)
    loss_fn = nn.CrossEntropyLoss() if classify else nn.MSELoss()
    gen = torch.Generator().manual_seed(ctx.seed)  # batch order: ours, not the global RNG's
    metrics: dict[str, float] = {}
    for epoch in range(1, int(p.epochs) + 1):
        train_loss = _train_epoch(model, opt, loss_fn, X_tr, y_tr, int(p.batch_size), gen, classify)
        metrics = {"train_loss": train_loss, **evaluate(model, loss_fn, X_va, y_va, classify)}
        ctx.report(epoch, metrics)
    torch.save(model.state_dict(), ctx.out_dir / "model.pt")
    return metrics


def _train_epoch(model, opt, loss_fn, X, y, batch_size, gen, classify) -> float:  # noqa: ANN001
    model.train()
    order = torch.randperm(len(X), generator=gen).to(X.device)
    total = 0.0
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        if len(idx) < 2 and any(isinstance(m, nn.BatchNorm1d) for m in model):
            continue  # batchnorm cannot train on a batch of one
        opt.zero_grad(set_to_none=True)
        out = model(X[idx])
        loss = loss_fn(out if classify else out.squeeze(1), y[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total / len(X)


@torch.no_grad()
def evaluate(
    model: nn.Module, loss_fn: nn.Module, X: torch.Tensor, y: torch.Tensor, classify: bool
) -> dict[str, float]:
    model.eval()
    out = model(X)
    if classify:
        acc = (out.argmax(1) == y).float().mean()
        return {"val_loss": float(loss_fn(out, y)), "val_accuracy": float(acc)}
    pred = out.squeeze(1)
    mse = float(loss_fn(pred, y))
    var = float(torch.var(y, unbiased=False))
    return {"val_loss": mse, "val_rmse": float(np.sqrt(mse)), "val_r2": 1.0 - mse / var if var > 0 else 0.0}
