"""Small fully connected networks: forward pass, cost and backpropagation.

Conventions, as in the course: layer `l` computes `a_l = sigma(z_l)`, `z_l = W_l a_{l-1} + b_l`;
`W_l` has shape (n_l, n_{l-1}) and `b_l` shape (n_l, 1) (or (n_l,)). Training examples
are the columns of `x` (shape (n_0, N)); a 1-D `x` is one example. The cost is
`C = |a_L - y|^2 / N`, the squared error summed over outputs and examples divided by
the number of examples N. Gradients come back shaped exactly like their parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from grading.reference.numeric import sigmoid, sigmoid_prime, tanh, tanh_prime

Activation = Literal["sigmoid", "tanh"]
Array = NDArray[np.float64]

_ACTIVATIONS = {"sigmoid": (sigmoid, sigmoid_prime), "tanh": (tanh, tanh_prime)}


def _columns(x: ArrayLike) -> Array:
    x = np.asarray(x, dtype=float)
    return x.reshape(-1, 1) if x.ndim <= 1 else x


def _activation(name: str) -> tuple:
    if name not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}: sigmoid or tanh")
    return _ACTIVATIONS[name]


def _check_shapes(weights: Sequence[ArrayLike], biases: Sequence[ArrayLike]) -> None:
    if len(weights) != len(biases):
        raise ValueError("one bias vector per weight matrix")
    for i, (w, b) in enumerate(zip(weights, biases, strict=True), start=1):
        w, b = np.asarray(w), np.asarray(b)
        if w.ndim != 2 or b.size != w.shape[0]:
            raise ValueError(f"layer {i}: W must be (n_l, n_l-1) and b have n_l entries")
        if i > 1 and w.shape[1] != np.asarray(weights[i - 2]).shape[0]:
            raise ValueError(
                f"layer {i}: W has {w.shape[1]} columns, the layer below has "
                f"{np.asarray(weights[i - 2]).shape[0]} units"
            )


def forward_pass(
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike],
    x: ArrayLike,
    activation: Activation = "sigmoid",
) -> list[Array]:
    """The activations `[a_0 = x, a_1, ..., a_L]`, each of shape (n_l, N)."""
    return _forward(weights, biases, x, activation)[0]


def _forward(
    weights: Sequence[ArrayLike], biases: Sequence[ArrayLike], x: ArrayLike, activation: str
) -> tuple[list[Array], list[Array]]:
    _check_shapes(weights, biases)
    act, _ = _activation(activation)
    activations = [_columns(x)]
    pre_activations = []
    for w, b in zip(weights, biases, strict=True):
        z = np.asarray(w, dtype=float) @ activations[-1] + _columns(b)
        pre_activations.append(z)
        activations.append(act(z))
    return activations, pre_activations


def cost(a: ArrayLike, y: ArrayLike) -> float:
    """`|a - y|^2 / N`: the squared error over all outputs, divided by the N examples."""
    a, y = _columns(a), _columns(y)
    if a.shape != y.shape:
        raise ValueError(f"output shape {a.shape} and target shape {y.shape} differ")
    return float(np.sum((a - y) ** 2) / a.shape[1])


def network_cost(
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike],
    x: ArrayLike,
    y: ArrayLike,
    activation: Activation = "sigmoid",
) -> float:
    """The cost of the network's output for inputs `x` against targets `y`."""
    return cost(forward_pass(weights, biases, x, activation)[-1], y)


def backpropagate(
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike],
    x: ArrayLike,
    y: ArrayLike,
    activation: Activation = "sigmoid",
) -> tuple[list[Array], list[Array]]:
    """`(dC/dW, dC/db)`, one array per layer, each shaped like its `W_l` or `b_l`.

    `delta_L = 2 (a_L - y) / N * sigma'(z_L)`, `delta_l = W_{l+1}^T delta_{l+1} * sigma'(z_l)`,
    `dC/dW_l = delta_l a_{l-1}^T`, `dC/db_l` = `delta_l` summed over the examples.
    """
    _, derivative = _activation(activation)
    activations, pre_activations = _forward(weights, biases, x, activation)
    target = _columns(y)
    if target.shape != activations[-1].shape:
        raise ValueError(f"target shape {target.shape} differs from output {activations[-1].shape}")
    n_examples = target.shape[1]
    delta = 2.0 * (activations[-1] - target) / n_examples * derivative(pre_activations[-1])
    grad_w: list[Array] = [np.empty(0)] * len(weights)
    grad_b: list[Array] = [np.empty(0)] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        grad_w[layer] = delta @ activations[layer].T
        grad_b[layer] = delta.sum(axis=1).reshape(np.shape(biases[layer]))
        if layer:
            w = np.asarray(weights[layer], dtype=float)
            delta = (w.T @ delta) * derivative(pre_activations[layer - 1])
    return grad_w, grad_b


def count_parameters(layer_sizes: Sequence[int]) -> tuple[int, int]:
    """`(weights, biases)` of a fully connected network: 3-4-2 has (20, 6)."""
    sizes = list(layer_sizes)
    weights = sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))
    return weights, sum(sizes[1:])


@dataclass(frozen=True)
class RandomNetwork:
    """Seeded parameters and data for a network exercise variant."""

    weights: list[Array]
    biases: list[Array]
    x: Array
    y: Array


def random_network(
    layer_sizes: Sequence[int],
    rng: np.random.Generator,
    *,
    n_examples: int = 1,
    decimals: int | None = 1,
    scale: float = 1.0,
) -> RandomNetwork:
    """`W_l`, `b_l` (shape (n_l, 1)), inputs `x` (n_0, N) and targets `y` (n_L, N).

    Weights, biases and inputs are normal with standard deviation `scale`; targets
    lie in [0, 1] (where a sigmoid output can reach). Everything is rounded to
    `decimals` places (None: not rounded) so a prompt can show the exact numbers.
    The same generator state gives the same network.
    """
    sizes = list(layer_sizes)
    if len(sizes) < 2 or any(int(n) < 1 for n in sizes):
        raise ValueError("a network needs at least two layers of at least one unit")

    def rounded(values: Array) -> Array:
        return np.round(values, decimals) if decimals is not None else values

    weights = [
        rounded(rng.normal(0.0, scale, (b, a))) for a, b in zip(sizes, sizes[1:], strict=False)
    ]
    biases = [rounded(rng.normal(0.0, scale, (b, 1))) for b in sizes[1:]]
    x = rounded(rng.normal(0.0, scale, (sizes[0], n_examples)))
    y = rounded(rng.uniform(0.0, 1.0, (sizes[-1], n_examples)))
    return RandomNetwork(weights, biases, x, y)
