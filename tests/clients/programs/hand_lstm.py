# A sequence model stepped one time step at a time with nn.LSTMCell, the loss accumulated
# over steps, gradient clipping and Adam; hidden states detached between chunks (truncated
# backpropagation through time).
import json
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _weights import set_weights  # noqa: E402


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(3, 12)
        self.out = nn.Linear(12, 1)

    def forward(self, xs, state):
        h, c = state
        outs = []
        for t in range(xs.size(0)):
            h, c = self.cell(xs[t], (h, c))
            outs.append(self.out(h))
        return torch.stack(outs), (h, c)


rng = np.random.default_rng(7)
seq = torch.from_numpy(rng.standard_normal((40, 4, 3)).astype(np.float32))
target = seq.sum(-1, keepdim=True).cumsum(0) * 0.1
model = Tagger()
set_weights(torch, model, 3)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
losses = []
for _epoch in range(6):
    state = (torch.zeros(4, 12), torch.zeros(4, 12))
    total = 0.0
    for start in range(0, 40, 10):
        state = tuple(s.detach() for s in state)
        pred, state = model(seq[start:start + 10], state)
        loss = ((pred - target[start:start + 10]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        total += loss.item()
    losses.append(total)
print(json.dumps({"losses": losses}))
