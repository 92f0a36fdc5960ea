"""``Module``: the base class of every layer and model (PyTorch's ``torch.nn.Module``).

A module owns three ordered dicts filled by attribute assignment: ``_parameters``
(``Parameter`` values), ``_buffers`` (tensors registered with ``register_buffer``) and
``_modules`` (child modules). Everything else (iteration, ``state_dict``, ``train``/``eval``,
``to``) walks these dicts. ``__call__`` runs ``forward`` directly when no hook is registered,
so a call costs one attribute check more than calling ``forward``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from ..tensor import Tensor
from ._module_api import ModuleAPI
from ._module_hooks import call_with_hooks
from ._module_util import check_name as _check_name
from ._module_util import module_repr, record_init
from ._state import IncompatibleKeys, load_state_dict_into, state_dict_of, to_module
from .hooks import (  # noqa: F401
    _ANY_BACKWARD_HOOKS, _GLOBAL_FORWARD_HOOKS, _GLOBAL_FORWARD_PRE_HOOKS, RemovableHandle,
    _add_hook,
    register_module_forward_hook, register_module_forward_pre_hook,
)
from .parameter import Buffer, Parameter


class Module(ModuleAPI):
    """Base class of neural-network layers and models.

    Subclasses call ``super().__init__()`` first, assign parameters, buffers and submodules
    as attributes, and define ``forward``::

        class TwoLayer(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(13, 32)
                self.fc2 = nn.Linear(32, 1)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))
    """

    training: bool
    _version = 1

    def __init_subclass__(cls, **kwargs):
        # record each instance's constructor arguments (chainrule.save stores whole modules)
        super().__init_subclass__(**kwargs)
        record_init(cls)

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments; Module.__init__ "
                "takes none"
            )
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()

    forward = None  # subclasses define forward(...)

    # -- calling -------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if self._forward_hooks or self._forward_pre_hooks or _GLOBAL_FORWARD_HOOKS \
                or _GLOBAL_FORWARD_PRE_HOOKS or _ANY_BACKWARD_HOOKS:
            return self._call_with_hooks(args, kwargs)
        if self.forward is None:
            raise NotImplementedError(
                f'Module [{type(self).__name__}] is missing the required "forward" function'
            )
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        return call_with_hooks(self, args, kwargs)  # hooks of every kind (_module_hooks.py)

    # -- registration --------------------------------------------------------------
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name("parameter", name, self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(chainrule.nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name("buffer", name, self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(chainrule.Tensor or None required)"
            )
        if isinstance(tensor, Buffer):
            persistent = tensor.persistent
            tensor = Tensor._make(tensor._data, False, None, 0)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        _check_name("module", name, self)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name, d, d["_buffers"], d["_modules"])
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(chainrule.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, d, params, d["_buffers"])
            d["_modules"][name] = value
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(chainrule.nn.Module or None expected)"
                )
            d["_modules"][name] = None
        elif isinstance(value, Buffer) or (params is not None and name in d["_buffers"]):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(chainrule.Tensor or None expected)"
                )
            if isinstance(value, Buffer) or name not in d["_buffers"]:
                self.register_buffer(name, value)
            else:
                d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name, *dicts) -> None:
        for d in dicts:
            if name in d:
                del d[name]

    def __getattr__(self, name: str):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            table = d.get(key)
            if table is not None and name in table:
                return table[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d.get(key, ()):
                del d[key][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` (``""`` is the module itself)."""
        mod = self
        if target == "":
            return mod
        for part in target.split("."):
            if part not in mod._modules:
                raise AttributeError(
                    f"{type(mod).__name__} has no submodule `{part}` (while resolving {target!r})"
                )
            mod = mod._modules[part]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter `{name}`")
        return mod._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._buffers:
            raise AttributeError(f"{type(mod).__name__} has no buffer `{name}`")
        return mod._buffers[name]

    # -- iteration -----------------------------------------------------------------
    def _named_members(self, table: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in getattr(mod, table).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (mod_prefix + "." + name if mod_prefix else name), value

    def _all_modules(self) -> list:
        """Every distinct submodule (self first, depth-first), without building names."""
        out, seen, stack = [], set(), [self]
        while stack:
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append(m)
            kids = [c for c in m._modules.values() if c is not None]
            stack.extend(reversed(kids))
        return out

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        if not recurse or not self._modules:
            return iter([p for p in self._parameters.values() if p is not None])
        params, seen = [], set()
        for m in self._all_modules():
            for p in m._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        return iter(params)

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def modules(self) -> Iterator[Module]:
        return iter(self._all_modules())

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:  # depth-first, children in registration order (PyTorch's order)
            pre, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in memo:
                    continue
                memo.add(id(mod))
            yield pre, mod
            kids = [(pre + "." + n if pre else n, m) for n, m in mod._modules.items()
                    if m is not None]
            stack.extend(reversed(kids))

    # -- modes and gradients -------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad = Tensor._make(p.grad._data * 0, False, None, 0)

    def apply(self, fn) -> Module:
        """Call ``fn(m)`` on every submodule (children first) and on ``self``."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # -- dtype / device ------------------------------------------------------------
    def to(self, *args, **kwargs) -> Module:
        """Cast floating-point parameters and buffers in place (``to(dtype)``, ``to("cpu")``,
        ``to(tensor)``); parameters keep their identity, so optimizers stay valid."""
        return to_module(self, args, kwargs)

    def float(self) -> Module:
        from .. import float32

        return self.to(float32)

    def double(self) -> Module:
        from .. import float64

        return self.to(float64)

    def half(self) -> Module:
        from .. import float16

        return self.to(float16)

    def cpu(self) -> Module:
        return self

    def type(self, dst_type) -> Module:
        return self.to(dst_type)

    # -- state ---------------------------------------------------------------------
    def state_dict(self, *, destination=None, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict of parameters and persistent buffers by dotted name ('0.weight',
        'bn.running_mean'); values are detached tensors sharing the module's arrays."""
        return state_dict_of(self, destination, prefix, keep_vars)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Returns ``(missing_keys, unexpected_keys)``; with ``strict=True`` any missing or
        unexpected key raises, and a shape mismatch always raises, listing every problem.
        """
        return load_state_dict_into(self, state_dict, strict, assign)

    # -- printing ------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        return module_repr(self)


__all__ = ["IncompatibleKeys", "Module", "RemovableHandle", "register_module_forward_hook",
           "register_module_forward_pre_hook"]
