# torch.func in the style of its tutorials: per-example gradients with vmap(grad) over
# functional_call, a Jacobian with jacrev, a Hessian-vector product with jvp over grad, and
# an ensemble evaluated with stack_module_state + vmap.
import json
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.func import functional_call, grad, jacrev, jvp, stack_module_state, vmap

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _weights import data, set_weights  # noqa: E402

model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1))
set_weights(torch, model, 8)
params = {k: v.detach() for k, v in model.named_parameters()}
x_np, y_np = data(5, 4)
x, y = torch.from_numpy(x_np), torch.from_numpy(y_np.astype(np.float32))


def loss(p, xi, yi):
    out = functional_call(model, p, (xi.unsqueeze(0),))
    return ((out.squeeze() - yi) ** 2)


per_example = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
jac = jacrev(lambda inp: model(inp).sum(0))(x)
f = lambda v: (v.sin() * v).sum()  # noqa: E731
v0 = torch.linspace(-1, 1, 4)
_, hvp = jvp(grad(f), (v0,), (torch.ones(4),))
models = [nn.Linear(4, 2) for _ in range(3)]
for i, m in enumerate(models):
    set_weights(torch, m, 20 + i)
stacked, buffers = stack_module_state(models)
base = models[0]
ens = vmap(lambda p, b, inp: functional_call(base, (p, b), (inp,)), in_dims=(0, 0, None))(
    stacked, buffers, x)
print(json.dumps({k: v.tolist() for k, v in per_example.items()} |
                 {"jac": jac.tolist(), "hvp": hvp.tolist(), "ensemble": ens.tolist()}))
