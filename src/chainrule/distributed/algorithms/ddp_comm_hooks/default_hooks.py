"""The default DDP communication hooks (``torch.distributed.algorithms.ddp_comm_hooks.
default_hooks``): averaging allreduce, and allreduce of a float16 copy.

Each hook takes ``(process_group, bucket)`` — the group to reduce over (None: the default
group) and a ``GradBucket`` — and returns a ``chainrule.futures.Future`` of the averaged
flat gradient tensor. Register one with ``ddp.register_comm_hook(process_group, hook)``.
"""

from __future__ import annotations

from .... import _dtype
from ... import collectives
from ...c10d import _resolve

__all__ = ["allreduce_hook", "bf16_compress_hook", "bf16_compress_wrapper",
           "fp16_compress_hook", "fp16_compress_wrapper"]


def _group(process_group):
    return _resolve(process_group, "DDP communication hook")


def _allreduce_fut(process_group, tensor):
    """Divide ``tensor`` by the group size (first, so float16 cannot overflow), then start
    its sum allreduce; the future's value is the averaged tensor."""
    pg = _group(process_group)
    tensor.div_(pg.size())
    return collectives.all_reduce(tensor, group=pg, async_op=True).get_future().then(
        lambda fut: fut.value()[0])


def allreduce_hook(process_group, bucket):
    """Average the bucket over the group: ``g = (1/N) sum_r g_r``, in place in the bucket.
    Registering it gives the same gradients as registering no hook.

    Example::

        ddp.register_comm_hook(None, default_hooks.allreduce_hook)
    """
    return _allreduce_fut(process_group, bucket.buffer())


def fp16_compress_hook(process_group, bucket):
    """Average a float16 copy of the bucket: ``g = fp32(sum_r fp16(g_r / N))`` — half the
    bytes on the wire, at float16's precision (relative error ~2^-11 per value, values
    above 65504 overflow to inf). The result is cast back into the bucket's dtype.

    Example::

        ddp.register_comm_hook(None, default_hooks.fp16_compress_hook)
    """
    pg = _group(process_group)
    buffer = bucket.buffer()
    compressed = buffer.to(_dtype.float16).div_(pg.size())

    def decompress(fut):
        buffer.copy_(fut.value()[0])  # in place: no second full-precision buffer
        return buffer
    return collectives.all_reduce(compressed, group=pg, async_op=True).get_future().then(
        decompress)


def _no_bfloat16(name: str):
    raise TypeError(f"{name}: chainrule has no bfloat16 dtype (NumPy has none); use "
                    "fp16_compress_hook / fp16_compress_wrapper for 16-bit gradients")


def bf16_compress_hook(process_group, bucket):
    """Not available: chainrule has no bfloat16 (TypeError saying so)."""
    _no_bfloat16("bf16_compress_hook")


def fp16_compress_wrapper(hook):
    """Wrap ``hook`` so that it reduces a float16 copy of the bucket and the result is cast
    back into the bucket's dtype (``fp16_compress_wrapper(allreduce_hook)`` behaves as
    ``fp16_compress_hook``).

    Example::

        ddp.register_comm_hook(state, fp16_compress_wrapper(my_hook))
    """
    def fp16_compress_wrapper_hook(hook_state, bucket):
        original = bucket.buffer()
        bucket.set_buffer(original.to(_dtype.float16))
        fut = hook(hook_state, bucket)

        def decompress(fut):
            original.copy_(fut.value())
            bucket.set_buffer(original)
            return original
        return fut.then(decompress)
    return fp16_compress_wrapper_hook


def bf16_compress_wrapper(hook):
    """Not available: chainrule has no bfloat16 (TypeError saying so)."""
    _no_bfloat16("bf16_compress_wrapper")
