"""A character-level Transformer language model, trained on a text that ships with Python.

The corpus is the Python language reference as plain text (the ~465 KB of
``pydoc_data.topics`` that ``help()`` reads), so nothing is downloaded. The model is a small
decoder-only Transformer: character embeddings scaled by sqrt(d_model), plus the sinusoidal
positional encoding of Vaswani et al. (``PositionalEncoding`` below), through an
``nn.TransformerEncoder`` whose layers attend causally (``generate_square_subsequent_mask``),
then a linear map to the next character's logits. It trains with AdamW and a cosine learning
rate on random windows of the text, reports train/validation cross-entropy (nats per
character; a uniform guess is log(vocab) ~ 4.5), prints a sample, and writes the loss curve.

    python examples/char_lm.py [--steps 1000] [--out docs/char_lm_loss.png]

The same code runs on PyTorch by changing the imports (``import torch as cr``,
``from torch import nn``).
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

OUT = Path(__file__).resolve().parents[1] / "docs" / "char_lm_loss.png"


def load_corpus() -> str:
    """The Python language reference topics (``pydoc_data.topics``), in a fixed order."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k].strip() for k in sorted(topics))


class PositionalEncoding(nn.Module):
    """x + PE[:L], then dropout, with the sinusoids of "Attention Is All You Need":

        PE[pos, 2i] = sin(pos / 10000^(2i / d_model)),
        PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model)).

    Each pair of dimensions is a rotation at its own frequency (wavelengths 2 pi to
    10000 * 2 pi), so PE[pos + k] is a fixed linear function of PE[pos] for every offset k.
    The table is a buffer (saved in ``state_dict``, never trained).

    Shape: input (N, L, d_model) (batch first), output the same; L <= max_len.
    """

    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000):
        super().__init__()
        pos = np.arange(max_len)[:, None]
        freq = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = np.zeros((1, max_len, d_model), dtype=np.float32)
        pe[0, :, 0::2] = np.sin(pos * freq)
        pe[0, :, 1::2] = np.cos(pos * freq)[:, : d_model // 2]
        self.register_buffer("pe", cr.tensor(pe))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(x + self.pe[:, : x.shape[1]])


class CharTransformer(nn.Module):
    """Next-character logits for every position of a (N, L) batch of character ids."""

    def __init__(self, vocab: int, d_model: int = 64, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int = 256, dropout: float = 0.1, context: int = 64):
        super().__init__()
        self.d_model, self.context = d_model, context
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = PositionalEncoding(d_model, dropout, max_len=context)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                           batch_first=True, norm_first=True)
        with warnings.catch_warnings():  # norm_first layers cannot use nested tensors
            warnings.simplefilter("ignore", UserWarning)
            self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab)
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)  # x sqrt(d_model): comparable to PE
        self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(context),
                             persistent=False)

    def forward(self, idx):
        L = idx.shape[1]
        h = self.pos(self.embed(idx) * math.sqrt(self.d_model))
        h = self.encoder(h, mask=self.causal[:L, :L], is_causal=True)
        return self.head(h)


def encode(text: str, vocab: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(vocab)}
    return np.array([index[c] for c in text], dtype=np.int64)


def batch(data: np.ndarray, n: int, context: int, rng) -> tuple:
    """n random windows of the text as (inputs, next-character targets), each (n, context)."""
    start = rng.integers(0, len(data) - context - 1, n)
    rows = start[:, None] + np.arange(context + 1)
    chunk = data[rows]
    return cr.tensor(chunk[:, :-1]), cr.tensor(chunk[:, 1:])


def evaluate(model, data, context, batches=8, n=32, seed=123) -> float:
    """Mean cross-entropy (nats per character) over fixed random windows, dropout off."""
    rng = np.random.default_rng(seed)
    model.eval()
    total = 0.0
    with cr.no_grad():
        for _ in range(batches):
            x, y = batch(data, n, context, rng)
            total += float(F.cross_entropy(model(x).reshape(-1, model.head.out_features),
                                           y.reshape(-1)))
    model.train()
    return total / batches


def train(steps: int = 1000, batch_size: int = 32, context: int = 64, lr: float = 3e-3,
          d_model: int = 64, num_layers: int = 2, seed: int = 0, eval_every: int = 100,
          text: str | None = None, log=print):
    """Train a CharTransformer; returns (model, vocab, history) with history rows
    (step, train loss (mean since the last row; NaN at step 0), validation loss)."""
    text = load_corpus() if text is None else text
    vocab = sorted(set(text))
    data = encode(text, vocab)
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    cr.manual_seed(seed)
    rng = np.random.default_rng(seed)
    # no dropout: ~100k parameters see the text only a few times, too few to overfit
    model = CharTransformer(len(vocab), d_model, max(1, d_model // 16), num_layers,
                            4 * d_model, 0.0, context)
    opt = cr.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = cr.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 50) * 0.5 * (1 + math.cos(math.pi * s / steps)))
    history, running, count = [(0, float("nan"), evaluate(model, val_data, context))], 0.0, 0
    for step in range(1, steps + 1):
        x, y = batch(train_data, batch_size, context, rng)
        loss = F.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running, count = running + float(loss), count + 1
        if step % eval_every == 0 or step == steps:
            val = evaluate(model, val_data, context)
            history.append((step, running / count, val))
            log(f"step {step:5d}  train {running / count:.3f}  val {val:.3f}")
            running, count = 0.0, 0
    return model, vocab, history


def sample(model, vocab: list[str], prompt: str, n: int = 300, temperature: float = 0.8,
           seed: int = 0) -> str:
    """Continue ``prompt`` by n characters, sampling from softmax(logits / temperature)."""
    rng = np.random.default_rng(seed)
    ids = list(encode(prompt, vocab))
    model.eval()
    with cr.no_grad():
        for _ in range(n):
            window = cr.tensor(np.array(ids[-model.context:])[None])
            logits = model(window)[0, -1].numpy().astype(np.float64) / temperature
            p = np.exp(logits - logits.max())
            ids.append(int(rng.choice(len(vocab), p=p / p.sum())))
    model.train()
    return "".join(vocab[i] for i in ids)


def plot(history, vocab_size: int, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, tr, va = zip(*history)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(steps, tr, marker="o", ms=3, label="train (mean over the interval)")
    ax.plot(steps, va, marker="s", ms=3, label="validation")
    ax.axhline(math.log(vocab_size), color="gray", ls="--", lw=1,
               label=f"uniform guess, log({vocab_size})")
    ax.set_xlabel("step (32 windows x 64 characters)")
    ax.set_ylabel("cross-entropy (nats / character)")
    ax.set_title("Character-level Transformer on the Python language reference")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(steps: int = 1000, out: Path = OUT) -> None:
    # the matrices here are small: one BLAS thread is fastest (several threads contend,
    # 2-10x slower on a busy 2-core machine); remove this line to use the default
    cr.set_num_threads(1)
    t0 = time.perf_counter()
    model, vocab, history = train(steps)
    print(f"vocabulary {len(vocab)} characters; log(vocab) = {math.log(len(vocab)):.3f}")
    print(f"trained {steps} steps in {time.perf_counter() - t0:.0f} s")
    print("sample:\n" + sample(model, vocab, "The \"while\" statement"))
    print(plot(history, len(vocab), out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    main(args.steps, args.out)
