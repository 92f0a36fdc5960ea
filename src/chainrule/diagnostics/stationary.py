"""``stationary_point``: is the gradient zero here, and what does the Hessian say?

Optimality conditions (second-order): at a point with ``grad f = 0``

* Hessian positive definite (all eigenvalues > 0)  -> strict local minimum
* negative definite (all < 0)                       -> strict local maximum
* indefinite (eigenvalues of both signs)            -> saddle point
* semidefinite with zero eigenvalues                -> degenerate (higher-order terms decide)

Only the extreme eigenvalues are needed; they come from the Lanczos iteration on
Hessian-vector products (double backward), so the Hessian is never formed.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np

from ..autograd.engine import grad as _grad
from ..tensor import Tensor

__all__ = ["StationaryPoint", "hessian_eigenvalues", "lanczos", "stationary_point"]


def lanczos(matvec, n: int, steps: int | None = None, seed: int = 0) -> np.ndarray:
    """Ritz values (ascending) of a symmetric operator ``matvec`` on R^n after ``steps``
    Lanczos iterations with full reorthogonalisation (exact eigenvalues when steps = n).

        q_1 random unit;  w = A q_j - beta_{j-1} q_{j-1};  alpha_j = <w, q_j>
        w -= alpha_j q_j;  w -= Q Q^T w (twice);  beta_j = ||w||;  q_{j+1} = w / beta_j

    T = tridiag(beta, alpha, beta) has the Ritz values as eigenvalues; the extreme ones
    converge first. On breakdown (an invariant subspace, beta_j ~ 0) the iteration restarts
    from a random vector orthogonal to the basis, so repeated eigenvalues are still found.
    """
    steps = n if steps is None else min(int(steps), n)
    if steps < 1:
        raise ValueError(f"lanczos: need n >= 1 and steps >= 1, got n={n}, steps={steps}")
    rng = np.random.default_rng(seed)
    Q = np.zeros((steps, n))
    alpha, beta = np.zeros(steps), np.zeros(max(steps - 1, 0))
    q = rng.standard_normal(n)
    q /= np.linalg.norm(q)
    scale = 0.0
    for j in range(steps):
        Q[j] = q
        w = np.asarray(matvec(q), dtype=np.float64).reshape(n)
        alpha[j] = w @ q
        scale = max(scale, abs(alpha[j]), np.linalg.norm(w))
        for _ in range(2):  # full reorthogonalisation, twice is enough
            w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        if j == steps - 1:
            break
        b = np.linalg.norm(w)
        if b <= 1e-10 * max(scale, 1e-300):  # invariant subspace: restart orthogonally
            b = 0.0
            w = rng.standard_normal(n)
            for _ in range(2):
                w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
            q = w / np.linalg.norm(w)
        else:
            q = w / b
        beta[j] = b
    T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    return np.linalg.eigvalsh(T)


def _params_list(params):
    if isinstance(params, Tensor):
        return [params]
    params = list(params)
    if not params or not all(isinstance(p, Tensor) for p in params):
        raise TypeError("stationary_point: params must be a tensor or an iterable of tensors")
    return params


def _loss_and_grad(loss_fn, params):
    """The loss, and its gradient as a graph (for Hessian-vector products)."""
    leaves = [p.detach().requires_grad_(True) if not p.requires_grad else p for p in params]
    try:
        nargs = len(inspect.signature(loss_fn).parameters)
    except (TypeError, ValueError):
        nargs = len(leaves)
    loss = loss_fn() if nargs == 0 else loss_fn(*leaves)
    if not isinstance(loss, Tensor) or loss.numel() != 1:
        raise ValueError(f"stationary_point: loss_fn must return a scalar tensor, got {loss!r}")
    grads = _grad([loss], leaves, create_graph=True, allow_unused=True)
    grads = [g if g is not None else p.detach() * 0 for g, p in zip(grads, leaves)]
    return loss, leaves, grads


def _hvp_operator(leaves, grads):
    sizes = [p.numel() for p in leaves]
    shapes = [tuple(p.shape) for p in leaves]
    dtype = leaves[0]._data.dtype
    connected = [i for i, g in enumerate(grads) if g.requires_grad]

    def matvec(v):
        parts = np.split(np.asarray(v, dtype=dtype), np.cumsum(sizes)[:-1])
        if not connected:
            return np.zeros(sum(sizes))
        dot = sum((grads[i] * Tensor._make(parts[i].reshape(shapes[i]), False, None, 0)).sum()
                  for i in connected)
        hv = _grad([dot], leaves, retain_graph=True, allow_unused=True)
        return np.concatenate([np.zeros(s) if h is None else h._data.reshape(-1).astype(
            np.float64) for h, s in zip(hv, sizes)])

    return matvec, sum(sizes)


def hessian_eigenvalues(loss_fn, params, steps: int | None = None, method: str = "lanczos",
                        seed: int = 0) -> np.ndarray:
    """Eigenvalues of the Hessian of ``loss_fn`` at ``params``: Lanczos Ritz values (default;
    ``steps`` iterations, all n by default) or ``method="exact"`` (n Hessian-vector products
    build H, then ``numpy.linalg.eigvalsh``)."""
    _, leaves, grads = _loss_and_grad(loss_fn, _params_list(params))
    matvec, n = _hvp_operator(leaves, grads)
    if method == "exact":
        H = np.stack([matvec(e) for e in np.eye(n)])
        return np.linalg.eigvalsh((H + H.T) / 2)
    if method != "lanczos":
        raise ValueError(f"hessian_eigenvalues: method must be 'lanczos' or 'exact', got "
                         f"{method!r}")
    return lanczos(matvec, n, steps, seed)


@dataclass
class StationaryPoint:
    """What ``stationary_point`` found."""

    verdict: str  # "minimum", "maximum", "saddle", "degenerate" or "not stationary"
    loss: float
    grad_norm: float
    min_eigenvalue: float
    max_eigenvalue: float
    eigenvalues: np.ndarray = field(repr=False)  # Ritz values (ascending)
    n_params: int = 0
    message: str = ""

    def __str__(self) -> str:
        return self.message


def stationary_point(loss_fn, params, tol: float = 1e-6, eig_tol: float = 1e-6,
                     steps: int | None = 100, method: str = "lanczos",
                     seed: int = 0) -> StationaryPoint:
    """Classify ``params`` as a minimum, maximum, saddle or degenerate stationary point.

    ``||grad|| <= tol`` makes the point stationary; an eigenvalue counts as zero when
    ``|lambda| <= eig_tol * max(1, max |lambda|)``.

    Args:
        loss_fn: ``loss_fn(*params)`` or a closure ``loss_fn()`` over ``params`` (e.g. the
            parameters of a model), returning a scalar tensor.
        params: a tensor or an iterable of tensors (e.g. ``model.parameters()``).
        steps: Lanczos iterations (at most the number of parameters, where it is exact).
        method: ``"lanczos"`` (Hessian-vector products only) or ``"exact"`` (builds H).

    Example::

        x = cr.tensor([0.0, 0.0], dtype=cr.float64)
        stationary_point(lambda x: x[0] ** 2 - x[1] ** 2, x).verdict   # "saddle"
    """
    if not tol > 0 or not eig_tol > 0:
        raise ValueError(f"stationary_point: tol and eig_tol must be > 0, got {tol}, {eig_tol}")
    params = _params_list(params)
    loss, leaves, grads = _loss_and_grad(loss_fn, params)
    gnorm = float(np.sqrt(sum(float(np.sum(g._data.astype(np.float64) ** 2)) for g in grads)))
    matvec, n = _hvp_operator(leaves, grads)
    if method == "exact":
        eig = np.linalg.eigvalsh(np.stack([matvec(e) for e in np.eye(n)]))
    elif method == "lanczos":
        eig = lanczos(matvec, n, steps, seed)
    else:
        raise ValueError(f"stationary_point: method must be 'lanczos' or 'exact', got {method!r}")
    lo, hi = float(eig[0]), float(eig[-1])
    zero = eig_tol * max(1.0, abs(lo), abs(hi))
    if gnorm > tol:
        verdict = "not stationary"
        why = f"||grad|| = {gnorm:.3g} > tol = {tol:g}"
    elif lo > zero:
        verdict, why = "minimum", "the Hessian is positive definite"
    elif hi < -zero:
        verdict, why = "maximum", "the Hessian is negative definite"
    elif lo < -zero and hi > zero:
        verdict, why = "saddle", "the Hessian is indefinite (eigenvalues of both signs)"
    else:
        verdict = "degenerate"
        why = "the Hessian is semidefinite with zero eigenvalues (higher-order terms decide)"
    message = (f"{verdict}: {why}; loss = {float(loss._data):.6g}, ||grad|| = {gnorm:.3g}, "
               f"Hessian eigenvalues in [{lo:.4g}, {hi:.4g}] ({n} parameters)")
    return StationaryPoint(verdict, float(loss._data), gnorm, lo, hi, eig, n, message)
