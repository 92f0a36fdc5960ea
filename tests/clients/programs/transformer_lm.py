# A tiny Transformer language model in the style of the PyTorch tutorial: a subclass of
# nn.Module with an embedding, a sinusoidal positional encoding buffer, nn.TransformerEncoder
# with a causal mask from nn.Transformer.generate_square_subsequent_mask, and a few Adam
# steps (dropout 0 so the numbers are comparable).
import json
import math
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _weights import set_weights  # noqa: E402


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div)
        pe[:, 0, 1::2] = torch.cos(position * div)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[: x.size(0)]


class LM(nn.Module):
    def __init__(self, vocab=11, d=16):
        super().__init__()
        self.d = d
        self.emb = nn.Embedding(vocab, d)
        self.pos = PositionalEncoding(d)
        layer = nn.TransformerEncoderLayer(d, 2, 32, dropout=0.0)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.out = nn.Linear(d, vocab)

    def forward(self, src, mask):
        h = self.pos(self.emb(src) * math.sqrt(self.d))
        return self.out(self.enc(h, mask))


model = LM()
set_weights(torch, model, 11)
rng = np.random.default_rng(12)
seq = torch.from_numpy(rng.integers(0, 11, (9, 3)))
mask = nn.Transformer.generate_square_subsequent_mask(8)
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for _ in range(5):
    opt.zero_grad()
    logits = model(seq[:-1], mask)
    loss = nn.functional.cross_entropy(logits.reshape(-1, 11), seq[1:].reshape(-1))
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(json.dumps({"losses": losses, "mask": mask[:3, :3].tolist()}))
