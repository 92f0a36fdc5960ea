"""The kernels chainrule's intra-op pool records as one node each while ``chainrule.compile``
records with more than one thread (``_parallel.record``), by a stable name: a saved program
names them ``"chainrule:NAME"`` and loading accepts these names only."""

from __future__ import annotations

from . import _conv_parallel, _parallel, pool, unary


def kernels() -> dict:
    """{name: function} of every kernel ``_parallel.record`` may record."""
    return {"matmul": _parallel.matmul, "conv_forward": _conv_parallel._forward_recorded,
            "conv_weight_grad": _conv_parallel.conv_weight_grad,
            "conv_input_grad": _conv_parallel.conv_input_grad,
            "max_pool": pool._split_max_flat, "pool_scatter": pool.split_scatter,
            "relu": unary._relu, "relu_grad": unary._relu_grad_split}
