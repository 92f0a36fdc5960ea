"""``summary(model, input_shape)``: a table of every layer's output shape and parameters."""

from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..creation import zeros
from ..tensor import Tensor


def _out_shape(out) -> str:
    if isinstance(out, Tensor):
        return str(list(out.shape))
    if isinstance(out, (tuple, list)):
        return ", ".join(_out_shape(o) for o in out)
    return "-"


def summary(model, input_shape, *, dtype=None, print_fn=print) -> str:
    """Run ``model`` once on zeros of ``input_shape`` (the batch dim included, e.g.
    (1, 13)), under no_grad and in eval mode, and print one row per submodule: its name,
    type, output shape and the number of parameters it holds directly, then the totals.
    Returns the printed text.

    Args:
        model: the module. input_shape: a shape, or a list of shapes for several inputs.
        dtype: the input dtype (default float32). print_fn: where the text goes (None: only
            return it).

    Example::

        >>> text = cr.nn.summary(nn.Sequential(nn.Linear(13, 32), nn.ReLU()), (1, 13))
    """
    shapes = list(input_shape) if input_shape and isinstance(input_shape[0], (tuple, list)) \
        else [tuple(input_shape)]
    rows = []
    depth = {id(model): 0}
    names = {}
    for name, m in model.named_modules():
        names[id(m)] = name
        for child in m.children():
            depth[id(child)] = depth[id(m)] + 1

    def hook(module, args, out):
        if module is model:
            return
        n_params = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append((depth.get(id(module), 1), names.get(id(module), "?"),
                     type(module).__name__, _out_shape(out), n_params))

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            out = model(*[zeros(*s, dtype=dtype) for s in shapes])
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    width = max([len("Layer (type)")] + [2 * (d - 1) + len(f"{n} ({t})") for d, n, t, _, _ in
                                         rows]) + 2
    shape_w = max([len("Output Shape")] + [len(s) for _, _, _, s, _ in rows]) + 2
    line_w = width + shape_w + 12
    lines = [f"{'Layer (type)':<{width}}{'Output Shape':<{shape_w}}{'Param #':>12}",
             "=" * line_w]
    for d, name, typ, shape, n in rows:
        label = " " * (2 * (d - 1)) + f"{name} ({typ})"
        lines.append(f"{label:<{width}}{shape:<{shape_w}}{n:>12,}")
    lines += ["=" * line_w,
              f"Input shape: {', '.join(str(list(s)) for s in shapes)}",
              f"Output shape: {_out_shape(out)}",
              f"Total params: {total:,}",
              f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}",
              "-" * line_w]
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text
