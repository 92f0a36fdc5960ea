"""``DistributedDataParallel``: data-parallel training over ``chainrule.distributed``."""

from __future__ import annotations

import contextlib
import inspect
import warnings

from ... import _device
from ... import distributed as dist
from ...distributed.algorithms.join import Join, Joinable, _JoinConfig
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...tensor import Tensor
from ..module import Module
from ._join import DDPJoinHook
from ._reducer import FIRST_BUCKET_BYTES, Reducer

__all__ = ["DistributedDataParallel"]

_MB = 1024 * 1024


def _tensors(obj, out):
    """Collect the tensors of a (nested) forward output."""
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors(o, out)
    return out


def _reached_leaves(outputs) -> set:
    """``id``s of the leaves the autograd graph of ``outputs`` reaches."""
    leaves, seen, stack = set(), set(), []
    for t in _tensors(outputs, []):
        if t.grad_fn is None:
            leaves.add(id(t))
        elif id(t.grad_fn) not in seen:
            seen.add(id(t.grad_fn))
            stack.append(t.grad_fn)
    while stack:
        node = stack.pop()
        for e in node._edges:
            if e is None:
                continue
            if e[1] < 0:
                leaves.add(id(e[0]))
            elif id(e[0]) not in seen:
                seen.add(id(e[0]))
                stack.append(e[0])
    return leaves


def _check_comm_hook(hook) -> None:
    """PyTorch's checks of a communication hook: callable, and if annotated, taking a
    GradBucket and returning a Future."""
    if not callable(hook):
        raise TypeError("Communication hook must be callable.")
    try:
        sig = inspect.signature(hook)
    except (TypeError, ValueError):
        return
    bucket = sig.parameters.get("bucket")
    if bucket is not None and bucket.annotation is not inspect.Parameter.empty and \
            not _names(bucket.annotation, "GradBucket"):
        raise ValueError("Communication hook: bucket annotation should be dist.GradBucket.")
    ret = sig.return_annotation
    if ret is not inspect.Signature.empty and not _names(ret, "Future"):
        raise ValueError("Communication hook: return annotation should be "
                         "torch.futures.Future[torch.Tensor].")


def _names(annotation, cls_name: str) -> bool:
    if isinstance(annotation, str):  # from __future__ import annotations
        return cls_name in annotation
    return getattr(annotation, "__name__", "") == cls_name


class DistributedDataParallel(Module, Joinable):
    """Data parallelism: each process runs ``module`` on its share of every batch and the
    gradients are averaged over the processes during ``backward()``, so every replica
    takes the same optimizer step (PyTorch's ``DistributedDataParallel``, on MPI).

    ``g = (1/N) sum_r g_r``: with N processes each computing the mean loss of its B rows,
    this is the gradient of the mean loss over the N*B rows of the global batch.

    When wrapped, rank 0's parameters and buffers are broadcast to every process (after
    checking that all ranks have the same parameter shapes); with ``forward_sync_buffers``
    (the default) buffers such as BatchNorm's running statistics are broadcast from rank 0
    again at each forward. Gradients are reduced by bucketed, nonblocking allreduces started
    from per-parameter post-accumulate-grad hooks as the backward pass produces them (see
    ``chainrule.nn.parallel._reducer``). Models and optimizers are unchanged: build the
    optimizer on ``model.parameters()`` (the same objects as ``ddp.parameters()``).

    Args:
        module: the model to replicate.
        device_ids, output_device: for GPU modules in PyTorch; must be None (CPU).
        dim: accepted for compatibility (inputs are not scattered: each process passes its
            own batch).
        broadcast_buffers: deprecated spelling of ``forward_sync_buffers`` (False also skips
            the buffers' broadcast at construction).
        init_sync: check shapes and broadcast rank 0's state at construction.
        process_group: the group to average over (default: the world).
        bucket_cap_mb: bucket size in MiB (default 25; the first bucket 1 MiB).
        find_unused_parameters: detect parameters the forward outputs do not reach and
            reduce them as ready (needed when some parameters get no gradient).
        gradient_as_bucket_view: ``param.grad`` become views into the buckets (no copy
            back after the reduction).
        static_graph: the set of used parameters never changes: unused ones are found in
            the first iteration and marked ready from then on.
        forward_sync_buffers: broadcast buffers from rank 0 at each forward.

    Example::

        # mpiexec -n 2 python train.py
        dist.init_process_group("mpi")
        model = DistributedDataParallel(nn.Sequential(nn.Linear(20, 64), nn.ReLU(),
                                                      nn.Linear(64, 1)))
        opt = optim.Adam(model.parameters(), lr=1e-3)
        for xb, yb in loader:          # loader built with a DistributedSampler
            opt.zero_grad()
            F.mse_loss(model(xb), yb).backward()   # gradients averaged over ranks here
            opt.step()
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool | None = None, init_sync: bool = True,
                 process_group=None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None,
                 mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params: bool = False, bucket_cap_mb_list=None,
                 batched_grad_copy: bool = False, forward_sync_buffers: bool | None = None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        if device_ids is not None or output_device is not None:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work "
                "with GPU modules; chainrule modules are on the CPU, so leave both None "
                f"(got device_ids={device_ids!r}, output_device={output_device!r})")
        for name, value in (("delay_all_reduce_named_params", delay_all_reduce_named_params),
                            ("param_to_hook_all_reduce", param_to_hook_all_reduce),
                            ("mixed_precision", mixed_precision), ("device_mesh", device_mesh),
                            ("bucket_cap_mb_list", bucket_cap_mb_list)):
            if value is not None:
                raise NotImplementedError(f"DistributedDataParallel: {name} is not supported")
        if check_reduction:
            warnings.warn("The `check_reduction` argument in `DistributedDataParallel` module "
                          "is deprecated. Please avoid using it.", FutureWarning, stacklevel=2)
        if broadcast_buffers is not None:
            warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` "
                          "instead.", FutureWarning, stacklevel=2)
        self.module = module
        self.device_ids, self.output_device, self.dim = None, None, dim
        self.process_group = pg = dist.c10d._resolve(process_group, "DistributedDataParallel")
        if forward_sync_buffers is not None:
            self.forward_sync_buffers, init_buffers = bool(forward_sync_buffers), True
        else:
            flag = True if broadcast_buffers is None else bool(broadcast_buffers)
            self.forward_sync_buffers, init_buffers = flag, flag
        self.find_unused_parameters = bool(find_unused_parameters)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.static_graph = bool(static_graph)
        self.batched_grad_copy = bool(batched_grad_copy)
        self.skip_all_reduce_unused_params = bool(skip_all_reduce_unused_params)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        cap = 25 if bucket_cap_mb is None else bucket_cap_mb
        if not cap > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got "
                             f"{bucket_cap_mb!r}")
        self.bucket_bytes_cap = int(cap * _MB)
        named, seen = [], set()
        for name, p in module.named_parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                named.append((name, p))
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        if init_sync:
            self._verify_shapes(named)
            states = [p for _, p in module.named_parameters()]
            if init_buffers:
                states += list(module.buffers())
            self._broadcast(states)
        first = FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        self.reducer = Reducer([p for _, p in named], [n for n, _ in named], pg,
                               self.bucket_bytes_cap, first, self.find_unused_parameters,
                               self.gradient_as_bucket_view, self.static_graph)
        self._param_ids = [id(p) for _, p in named]
        self._buffers_to_sync = list(module.buffers())  # as PyTorch, fixed when wrapped
        self._join_config = _JoinConfig.construct_disabled_join_config()  # Joinable
        self._divide_by_initial_world_size = True

    @property
    def broadcast_buffers(self) -> bool:
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value: bool) -> None:
        self.forward_sync_buffers = bool(value)

    # -- construction-time synchronisation -----------------------------------------------
    def _verify_shapes(self, named) -> None:
        pg = self.process_group
        mine = [[n, list(p._data.shape), p._data.dtype.str] for n, p in named]
        everyone = [None] * pg.size()
        dist.all_gather_object(everyone, mine, group=pg)
        for r, theirs in enumerate(everyone):
            if theirs != everyone[0]:
                diff = next((a, b) for a, b in zip(everyone[0] + [None], theirs + [None])
                            if a != b)
                raise RuntimeError(
                    f"DistributedDataParallel: rank {pg._ranks[r]} has different parameters "
                    f"than rank {pg._ranks[0]}: {diff[1]} vs {diff[0]} ([name, shape, dtype]); "
                    "every process must build the same model")

    def _broadcast(self, tensors) -> None:
        pg = self.process_group
        if pg.size() < 2 or not tensors:
            return
        with no_grad():
            works = [dist.broadcast(t, group=pg, group_src=0, async_op=True) for t in tensors]
        for w in works:
            w.wait()

    # -- forward --------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync:
            # inside Join: "still active" (pairs with the joined ranks' shadowing)
            active = Join.notify_join_context(self) if self._join_config.enable else None
            self.reducer.divisor = None if active is None or \
                self._divide_by_initial_world_size else active
            self.reducer.prepare_for_forward()
        if self.forward_sync_buffers and self.require_forward_param_sync and \
                self._buffers_to_sync:
            self._broadcast(self._buffers_to_sync)
        out = self.module(*inputs, **kwargs)
        if sync:
            unused = None
            if self.find_unused_parameters and not self.static_graph:
                reached = _reached_leaves(out)
                unused = [i for i, pid in enumerate(self._param_ids) if pid not in reached]
            self.reducer.prepare_for_backward(unused)
        self.require_forward_param_sync = sync
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, forward/backward passes accumulate gradients locally without reducing
        them; the first backward after the block reduces the accumulated gradients.

        Example::

            with ddp.no_sync():
                for xb, yb in micro_batches[:-1]:
                    loss_fn(ddp(xb), yb).backward()    # local accumulation only
            loss_fn(ddp(last_x), last_y).backward()      # reduces the sum of all of them
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def join(self, divide_by_initial_world_size: bool = True, enable: bool = True,
             throw_on_early_termination: bool = False):
        """Train on uneven inputs: ``Join([self], ...)`` (PyTorch's ``ddp.join()``). A rank
        that runs out of batches leaves the ``with`` block and then takes part in the
        others' collectives with zero gradients until every rank has left; then every rank
        gets the parameters and buffers of a rank that ran the most iterations.

        Args:
            divide_by_initial_world_size: keep dividing the gradients by the world size N
                (joined ranks count as zeros; default) rather than by the ranks still active.
            enable: False turns the detection (and its allreduce per iteration) off.
            throw_on_early_termination: raise RuntimeError on every rank at the iteration
                where some rank has run out of inputs, instead of shadowing it.

        Example::

            with ddp.join():
                for xb, yb in my_uneven_batches:      # a different count on each rank
                    opt.zero_grad(); loss_fn(ddp(xb), yb).backward(); opt.step()
        """
        return Join([self], enable, throw_on_early_termination,
                    divide_by_initial_world_size=divide_by_initial_world_size)

    def join_hook(self, **kwargs) -> DDPJoinHook:
        """The ``JoinHook`` ``Join`` runs on this rank once it has joined (kwargs:
        ``divide_by_initial_world_size``, default True)."""
        return DDPJoinHook(self, kwargs.get("divide_by_initial_world_size", True))

    @property
    def join_device(self):
        return _device.device("cpu")

    @property
    def join_process_group(self):
        return self.process_group

    def register_comm_hook(self, state: object, hook) -> None:
        """Reduce each gradient bucket with ``hook(state, bucket)`` instead of the default
        averaging allreduce (PyTorch's DDP communication hook).

        The hook gets a ``chainrule.distributed.GradBucket`` holding this rank's local
        gradients (not divided by the world size: dividing is the hook's job) and returns a
        ``chainrule.futures.Future`` whose value, a tensor of the bucket's size, DDP copies
        into the parameters' ``.grad`` at the end of the backward pass. It is called once per
        bucket in every synchronising backward, in bucket order (``bucket.is_last()`` on the
        last one); not inside ``no_sync()``. A hook can be registered once.
        ``chainrule.distributed.algorithms.ddp_comm_hooks.default_hooks`` has
        ``allreduce_hook`` (the default behaviour) and ``fp16_compress_hook``.

        Args:
            state: passed to every call (e.g. the process group).
            hook: ``hook(state, bucket) -> Future`` of the reduced flat bucket tensor.

        Example::

            def allreduce_avg(process_group, bucket):
                t = bucket.buffer().div_(dist.get_world_size())
                return dist.all_reduce(t, async_op=True).get_future().then(
                    lambda fut: fut.value()[0])

            ddp.register_comm_hook(None, allreduce_avg)
        """
        _check_comm_hook(hook)
        if self.reducer.comm_hook is not None:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be "
                               "called once.")
        self.reducer.comm_hook = (state, hook)

    def _register_builtin_comm_hook(self, comm_hook_type) -> None:
        """``comm_hook_type``: ``dist.BuiltinCommHookType.ALLREDUCE`` or ``FP16_COMPRESS``."""
        from ...distributed.algorithms.ddp_comm_hooks import default_hooks
        hooks = {"ALLREDUCE": default_hooks.allreduce_hook,
                 "FP16_COMPRESS": default_hooks.fp16_compress_hook}
        name = getattr(comm_hook_type, "name", comm_hook_type)
        if name not in hooks:
            raise ValueError(f"_register_builtin_comm_hook: unknown comm_hook_type "
                             f"{comm_hook_type!r}; use ALLREDUCE or FP16_COMPRESS")
        self.register_comm_hook(self.process_group, hooks[name])

    def extra_repr(self) -> str:
        pg = self.process_group
        return f"world_size={pg.size()}, buckets={len(self.reducer.buckets)}"
