"""The ``Optimizer`` base class: parameter groups, per-parameter state, ``step(closure)``
and PyTorch-layout state dicts.

Subclasses implement ``_update(group)``, which updates the parameters of one group in
place. Updates work on the NumPy arrays directly (``p._data``, ``p.grad._data``) with
``out=`` arguments: no Tensor objects are created per parameter per step and float32 stays
float32 (hyper-parameters are Python floats, which never widen an array under NumPy 2).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np

from .._state import STATE
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor


class _Required:
    """Marker for a hyper-parameter without a default (it must be given)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def check(name: str, key: str, value, ok: bool, expected: str) -> None:
    """Raise ``ValueError`` naming the optimizer and the bad hyper-parameter."""
    if not ok:
        word = _WORDS.get(key.split("[")[0])
        what = f"{word} {key}" if word else key
        raise ValueError(f"{name}: invalid {what}={value!r} ({expected})")


_WORDS = {
    "lr": "learning rate",
    "eps": "epsilon value",
    "weight_decay": "weight decay",
    "momentum": "momentum value",
    "dampening": "dampening value",
    "alpha": "alpha value",
    "rho": "rho value",
    "lr_decay": "learning rate decay",
    "initial_accumulator_value": "initial accumulator value",
    "momentum_decay": "momentum decay",
    "beta": "beta value",
    "damping": "damping value",
    "betas": "beta parameter",
}


def check_betas(name: str, betas) -> None:
    for i, b in enumerate(betas):
        check(name, f"betas[{i}]", b, 0.0 <= b < 1.0, "must be in [0, 1)")


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``).

    Args:
        params: an iterable of tensors, or of dicts (parameter groups) each with a
            ``"params"`` entry and optional per-group hyper-parameters.
        defaults: the hyper-parameters used where a group does not set them.

    Attributes:
        param_groups: list of dicts, one per group, every hyper-parameter filled in.
        state: per-parameter state, a dict keyed by the parameter tensor.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state: dict = {}
        self._scratch_arrays: dict = {}
        self.param_groups: list[dict] = []
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or dicts, but got a Tensor; "
                "wrap it in a list: [tensor]"
            )
        if isinstance(params, dict):
            params = [params]
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # -- groups -------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (a dict with ``"params"``), filling in the defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict, got {type(param_group)}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"{name}: optimizer parameters need to be organized in ordered collections, "
                "but the ordering of tensors in sets changes between runs; use a list"
            )
        elif isinstance(params, Iterable):
            params = list(params)
        else:
            raise TypeError(f"{name}: param group 'params' must be a Tensor or a list of Tensors")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: can only optimize Tensors, but one of the params is {type(p)}"
                )
            if p.grad_fn is not None:
                raise ValueError(
                    f"{name}: can't optimize a non-leaf Tensor (it has grad_fn "
                    f"{type(p.grad_fn).__name__}); optimize the leaf it was computed from"
                )
        group["params"] = params
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(
                    f"{name}: parameter group didn't specify a value of required "
                    f"optimization parameter {key}"
                )
            group.setdefault(key, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{name}: a parameter group contains the same parameter twice")
        if seen.intersection(ids):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # -- gradients and steps ------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: ``p.grad = None`` (default) or fill them with zeros."""
        if STATE.tracer is not None:  # chainrule.compile records the call, then runs it
            return STATE.tracer.host(self, "zero_grad", set_to_none)
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif g.requires_grad:
                    p.grad = Tensor._make(np.zeros_like(g._data), False, None, 0)
                else:
                    g._data.fill(0)

    def step(self, closure=None):
        """Update every parameter once; ``closure`` (optional) re-evaluates and returns the
        loss (it is called with grad mode on, before the update)."""
        if STATE.tracer is not None:  # chainrule.compile records the call, then runs it
            return STATE.tracer.host(self, "step", closure)
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update(group)
        return loss

    def _update(self, group: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    def _each(self, group: dict, weight_decay: float = 0.0, decoupled: bool = False):
        """Yield ``(p, w, g, state, s1, s2)`` for each parameter of ``group`` that has a
        gradient, after the steps every update shares: weight decay (decoupled: w *= 1 -
        lr wd; otherwise L2, added into g), g negated for ``maximize``, ``state["step"]``
        incremented. ``w`` is the parameter's array, updated in place by the caller; ``g``
        lives in a scratch array (``p.grad`` is never modified) and ``s1``, ``s2`` are two
        more scratch arrays. The parameter's version is bumped after the caller's update."""
        lr = float(group["lr"])
        maximize = group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            w = p._data
            s0, s1, s2 = self._scratch(w)
            if decoupled and weight_decay:
                w *= 1.0 - lr * weight_decay
                g = effective_grad(p, maximize, 0.0, s0)
            else:
                g = effective_grad(p, maximize, weight_decay, s0)
            state = self.state.setdefault(p, {})
            advance_step(state)
            yield p, w, g, state, s1, s2
            p._version += 1

    def _state_tensor(self, state: dict, key: str, p: Tensor, fill: float = 0.0) -> np.ndarray:
        """The array of ``state[key]``, created (as a tensor like ``p``) on first use."""
        t = state.get(key)
        if t is None:
            t = state[key] = Tensor._make(np.full_like(p._data, fill), False, None, 0)
        return t._data

    def _scratch(self, arr: np.ndarray) -> list[np.ndarray]:
        """Three scratch arrays shaped like ``arr``, shared by all parameters of that shape
        and dtype: updates write temporaries into them instead of allocating new arrays."""
        key = (arr.shape, arr.dtype)
        bufs = self._scratch_arrays.get(key)
        if bufs is None:
            bufs = self._scratch_arrays[key] = [np.empty_like(arr) for _ in range(3)]
        return bufs

    # -- state dicts --------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``, the
        parameters numbered in order across groups (PyTorch's layout)."""
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            for p in g["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in g["params"]]
            groups.append(packed)
        state = {index[id(p)]: v for p, v in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a ``state_dict()``: hyper-parameters per group and per-parameter state
        (arrays copied, floating ones cast to the parameter's dtype)."""
        name = type(self).__name__
        if "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups', "
                f"got keys {sorted(map(str, state_dict))}"
            )
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: loaded state dict has {len(saved)} parameter groups "
                f"but the optimizer has {len(self.param_groups)}"
            )
        for i, (g, s) in enumerate(zip(self.param_groups, saved)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(s['params'])} "
                    f"parameters in the state dict but {len(g['params'])} in the optimizer"
                )
        by_index = {}
        for g, s in zip(self.param_groups, saved):
            for idx, p in zip(s["params"], g["params"]):
                by_index[idx] = p
        self.state = {}
        for idx, st in state_dict["state"].items():
            p = by_index.get(int(idx))
            if p is None:
                continue
            self.state[p] = {k: _cast_state(v, p, k) for k, v in st.items()}
        for g, s in zip(self.param_groups, saved):
            for k, v in s.items():
                if k != "params":
                    g[k] = copy.deepcopy(v)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


def advance_step(state: dict) -> int:
    """Count one more step in ``state["step"]`` and return the new count as an int. The
    count is a 0-d float tensor (``new_step``), as PyTorch keeps it (programs call ``.item()`` on it and
    print it); a plain number (an older state dict) becomes one."""
    s = state.get("step")
    if not isinstance(s, Tensor):
        s = state["step"] = new_step(s or 0)
    s._data += 1
    return int(s._data)


def new_step(value=0) -> Tensor:
    """A step count as PyTorch keeps it: a 0-d tensor of its scalar dtype (float32, or
    float64 when that is the default dtype)."""
    from ._common import scalar_dtype

    return Tensor._make(np.asarray(value, scalar_dtype()), False, None, 0)


def step_count(state: dict) -> int:
    """``state["step"]`` as an int (a tensor or a plain number)."""
    s = state["step"]
    return int(s._data) if isinstance(s, Tensor) else int(s)


def _cast_state(value, p: Tensor, key: str):
    """Copy one loaded state value; floating arrays take the parameter's dtype."""
    if isinstance(value, Tensor | np.ndarray):
        arr = value._data if isinstance(value, Tensor) else value
        if arr.dtype.kind == "f" and key != "step":
            arr = arr.astype(p._data.dtype)
        arr = np.array(arr, copy=True)
        return Tensor._make(arr, False, None, 0) if isinstance(value, Tensor) else arr
    if isinstance(value, list):
        return [_cast_state(v, p, key) for v in value]
    if isinstance(value, tuple):
        return tuple(_cast_state(v, p, key) for v in value)
    return copy.deepcopy(value)


def effective_grad(p: Tensor, maximize: bool, weight_decay: float, buf: np.ndarray):
    """The gradient an update uses: ``(-g if maximize else g) + weight_decay * w``, written
    into the scratch array ``buf`` when it differs from ``p.grad`` (never modified)."""
    g = p.grad._data
    if weight_decay:
        np.multiply(p._data, weight_decay, out=buf)
        if maximize:
            buf -= g
        else:
            buf += g
        return buf
    if maximize:
        np.negative(g, out=buf)
        return buf
    return g


def flat_grad(params) -> np.ndarray:
    """All gradients concatenated into one vector (zeros for parameters without one)."""
    return np.concatenate([
        (p.grad._data if p.grad is not None else np.zeros_like(p._data)).reshape(-1)
        for p in params
    ])


def flat_params(params) -> np.ndarray:
    return np.concatenate([p._data.reshape(-1) for p in params])


def set_flat(params, vec: np.ndarray) -> None:
    """Write the vector ``vec`` back into the parameters, in place."""
    offset = 0
    for p in params:
        n = p._data.size
        p._data[...] = vec[offset:offset + n].reshape(p._data.shape)
        offset += n
        p._version += 1
