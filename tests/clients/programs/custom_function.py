# Custom autograd Functions: a straight-through rounding, and an exponential that saves its
# output; checked with gradcheck and used inside a small model.
import json

import torch
from torch.autograd import Function, gradcheck


class RoundSTE(Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class MyExp(Function):
    @staticmethod
    def forward(ctx, x, scale):
        y = torch.exp(x) * scale
        ctx.save_for_backward(y)
        ctx.scale = scale
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y, None


x = torch.linspace(-1, 1, 7, dtype=torch.float64, requires_grad=True)
ok = gradcheck(lambda t: MyExp.apply(t, 2.0), (x,), eps=1e-6, atol=1e-8)
y = RoundSTE.apply(x * 3) + MyExp.apply(x, 0.5)
y.sum().backward()
print(json.dumps({"gradcheck": bool(ok), "y": y.tolist(), "grad": x.grad.tolist(),
                  "is_leaf": y.is_leaf, "fn": type(y.grad_fn).__name__.endswith("Backward")}))
