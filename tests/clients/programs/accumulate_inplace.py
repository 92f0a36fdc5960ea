# A hand-written training loop in the style of older PyTorch code: the loss is accumulated
# with `+=` starting from the integer 0, parameters are updated through `.data`, gradients
# are zeroed in place, and an intermediate activation is edited in place before the loss.
import json
import sys

import torch
import torch.nn as nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _weights import data, set_weights  # noqa: E402

x_np, y_np = data(48, 5)
x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
lin1, lin2 = nn.Linear(5, 8), nn.Linear(8, 2)
set_weights(torch, lin1, 1)
set_weights(torch, lin2, 2)
params = list(lin1.parameters()) + list(lin2.parameters())
crit = nn.CrossEntropyLoss()
losses = []
for _step in range(15):
    loss = 0
    for i in range(0, 48, 16):
        h = lin1(x[i:i + 16]) + 0.1
        h[:, 0] += 0.5          # in-place edit of a non-leaf through a view
        h.mul_(1.1)             # and in place on the whole tensor
        loss += crit(lin2(h.tanh()), y[i:i + 16])
    loss /= 3
    loss.backward()
    for p in params:
        p.data -= 0.5 * p.grad.data
        p.grad.data.zero_()
    losses.append(loss.item())
print(json.dumps({"losses": losses}))
