"""The engine hooks data parallelism attaches to: one post-accumulate call per leaf and pass."""

import chainrule as cr
from chainrule.autograd.engine import queue_callback


def test_post_accumulate_hook_runs_once_after_all_contributions():
    # w reaches the loss through three edges (w * w twice, w * 3 once); PyTorch's
    # AccumulateGrad calls the hook once, with the summed gradient 2w + 3
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    ((w * w).sum() + (w * 3).sum()).backward()
    assert seen == [[5.0, 7.0]]
    ((w * w).sum() + (w * 3).sum()).backward()  # accumulates: the hook sees the total
    assert seen == [[5.0, 7.0], [10.0, 14.0]]


def test_post_accumulate_hook_not_called_without_gradient_and_not_by_grad():
    w = cr.tensor([1.0], requires_grad=True)
    v = cr.tensor([2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append("w"))
    v.register_post_accumulate_grad_hook(lambda t: seen.append("v"))
    out = (w * v).sum()
    cr.autograd.grad(out, [w])  # grad() does not accumulate into .grad
    assert seen == []
    (w * 2).sum().backward()
    assert seen == ["w"]


def test_queue_callback_runs_after_every_hook():
    w1 = cr.tensor([1.0], requires_grad=True)
    w2 = cr.tensor([1.0], requires_grad=True)
    order = []

    def hook(t):
        order.append("hook")
        if len(order) == 1:
            queue_callback(lambda: order.append("end"))
    w1.register_post_accumulate_grad_hook(hook)
    w2.register_post_accumulate_grad_hook(hook)
    ((w1 * 2) * (w2 * 3) + w1).sum().backward()
    assert order == ["hook", "hook", "end"]
