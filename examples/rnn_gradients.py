"""Vanishing and exploding gradients in recurrent networks, measured.

For each model we measure the Frobenius norm of the Jacobian d h_T / d h_0 (all H x H
entries, exactly: one backward pass over a batch of H identical sequences, row b of the
Jacobian read from sequence b) against the number of steps T, and plot it on a log scale:

* a tanh RNN whose recurrent matrix W has spectral radius 0.5, 1.0 and 1.5, run in its
  near-linear regime (h_0 = 0, inputs ~ 1e-3 N(0, 1), so tanh' ~ 1 and d h_T / d h_0 ~ W^T):
  the norm decays like 0.5^T, stays level, or grows like 1.5^T — until, for 1.5, the state
  itself grows into tanh's saturation and the growth stops;
* a LeakyRNN (alpha = 0.9) with the same radius-0.5 W: d h_t / d h_{t-1} = alpha I +
  (1 - alpha) diag(tanh') W has eigenvalues near 0.9 + 0.1 * 0.5, so the decay is far slower;
* an LSTM (PyTorch's default initialisation, c_0 = 0; derivative with respect to h_0).
  Its forget gate starts near sigmoid(0) = 0.5, so at initialisation the memory path decays
  too (about 0.6 per step here); the usual fix is a forget-gate bias of 1 or 2.

A second figure shows the remedy of Pascanu, Mikolov & Bengio (2013): a tanh RNN that starts
in the vanishing regime (spectral radius 0.5) is trained on a memory task (output x_1 after
T = 30 steps) with and without their regulariser Omega
(``nn.utils.vanishing_gradient_regularizer``), and ||d h_T / d h_t||_F of the trained
networks is plotted against T - t: without Omega it falls by orders of magnitude over the
30 steps, with Omega it stays level.

    python examples/rnn_gradients.py [--out examples/output/rnn_gradients.png] [--max-t 60]
                                     [--out-regularizer examples/output/rnn_regularizer.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn

OUT = Path(__file__).resolve().parent / "output" / "rnn_gradients.png"
OUT_REG = Path(__file__).resolve().parent / "output" / "rnn_regularizer.png"


def recurrent_matrix(hidden: int, radius: float, seed: int = 0) -> np.ndarray:
    """A random Gaussian (H, H) matrix rescaled to the given spectral radius."""
    w = np.random.default_rng(seed).standard_normal((hidden, hidden))
    return w * (radius / np.abs(np.linalg.eigvals(w)).max())


def _model(kind: str, hidden: int, radius: float, alpha: float, seed: int):
    cr.manual_seed(seed)
    w = cr.tensor(recurrent_matrix(hidden, radius, seed))
    if kind == "rnn":
        m = nn.RNN(1, hidden).double()
        with cr.no_grad():
            m.weight_hh_l0.copy_(w)
    elif kind == "leaky":
        m = nn.LeakyRNN(1, hidden, alpha=alpha).double()
        with cr.no_grad():
            m.weight_hh.copy_(w)
    elif kind == "lstm":
        m = nn.LSTM(1, hidden).double()
    else:
        raise ValueError(f"jacobian_norms: kind must be 'rnn', 'leaky' or 'lstm', got {kind!r}")
    return m


def jacobian_norms(kind: str, steps, hidden: int = 32, radius: float = 1.0, alpha: float = 0.9,
                   input_scale: float = 1e-3, seed: int = 0) -> np.ndarray:
    """||d h_T / d h_0||_F for each T in ``steps`` (float64, zero biases of the recurrence
    are not enforced: the default init's biases act as a constant input).

    Args:
        kind: "rnn" (tanh RNN with W of the given spectral radius), "leaky" (LeakyRNN with
            that W and leak alpha) or "lstm".
        steps: the sequence lengths T to measure (one forward pass to max(steps)).
        hidden: H.  input_scale: std of the scalar inputs x_t.
    """
    steps = [int(t) for t in steps]
    m = _model(kind, hidden, radius, alpha, seed)
    if kind != "lstm":  # biases act like inputs: keep them as small as the inputs
        with cr.no_grad():
            for name, p in m.named_parameters():
                if "bias" in name:
                    p.mul_(input_scale)
    rng = np.random.default_rng(seed + 1)
    x1 = rng.standard_normal((max(steps), 1, 1)) * input_scale
    x = cr.tensor(np.repeat(x1, hidden, axis=1))  # H identical sequences: (T, H, 1)
    h0 = cr.zeros(1, hidden, hidden, dtype=cr.float64, requires_grad=True)
    state = (h0, cr.zeros(1, hidden, hidden, dtype=cr.float64)) if kind == "lstm" else h0
    out, _ = m(x, state)
    eye = cr.tensor(np.eye(hidden))
    norms = []
    for T in steps:
        (g,) = cr.autograd.grad((out[T - 1] * eye).sum(), h0, retain_graph=True)
        norms.append(float(np.linalg.norm(g.numpy())))  # row b = e_b^T d h_T / d h_0
    return np.array(norms)


def train_memory_task(lam: float, steps: int = 150, T: int = 30, hidden: int = 16,
                      radius: float = 0.5, lr: float = 1e-2, seed: int = 0):
    """Train a tanh RNN + linear readout to output x_1 after T steps (MSE, Adam), with
    loss + lam * Omega when lam > 0. Returns (rnn, head, per-step task losses)."""
    import chainrule.nn.functional as F

    cr.manual_seed(seed)
    rng = np.random.default_rng(seed)
    rnn, head = nn.RNN(1, hidden), nn.Linear(hidden, 1)
    with cr.no_grad():
        rnn.weight_hh_l0.copy_(cr.tensor(recurrent_matrix(hidden, radius, seed)
                                         .astype(np.float32)))
    opt = cr.optim.Adam([*rnn.parameters(), *head.parameters()], lr=lr)
    step = nn.utils.rnn_step(rnn)
    losses = []
    for _ in range(steps):
        x = cr.tensor(rng.standard_normal((T, 32, 1)).astype(np.float32))
        out, _ = rnn(x)
        loss = F.mse_loss(head(out[-1]), x[0])
        total = loss
        if lam > 0:
            omega = nn.utils.vanishing_gradient_regularizer(step, x, out, loss,
                                                            reduction="mean")
            total = loss + lam * omega
        opt.zero_grad()
        total.backward()
        opt.step()
        losses.append(float(loss))
    return rnn, head, np.array(losses)


def state_jacobian_norms(rnn, T: int = 30, seed: int = 5) -> np.ndarray:
    """||d h_T / d h_t||_F for t = 0..T-1 of a one-layer RNN on one random input sequence
    (H identical copies of it, so one backward pass gives every row of each Jacobian)."""
    H = rnn.hidden_size
    x1 = np.random.default_rng(seed).standard_normal((T, 1, 1)).astype(np.float32)
    x = cr.tensor(np.repeat(x1, H, axis=1))
    step = nn.utils.rnn_step(rnn)
    h = h0 = cr.zeros(H, H, requires_grad=True)
    states = []
    for t in range(T):
        states.append(h)
        h = step(x[t], h)
    grads = cr.autograd.grad((h * cr.tensor(np.eye(H, dtype=np.float32))).sum(), states)
    assert grads[0] is not None and states[0] is h0
    return np.array([float(np.linalg.norm(g.numpy())) for g in grads])


def plot_regularizer(out: Path = OUT_REG, T: int = 30, steps: int = 150, lam: float = 1.0):
    """Train with and without Omega; plot ||d h_T / d h_t|| and the task loss."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    lag = np.arange(T, 0, -1)  # T - t for t = 0..T-1
    rows = []
    for name, value in (("plain tanh RNN", 0.0), (f"with Omega (lambda={lam:g})", lam)):
        rnn, _, losses = train_memory_task(value, steps=steps, T=T)
        norms = state_jacobian_norms(rnn, T)
        rows.append((name, norms, losses))
        a.semilogy(lag, norms, marker="o", ms=3, label=name)
        b.plot(np.convolve(losses, np.ones(10) / 10, mode="valid"), label=name)
    a.set_xlabel("T - t (steps back)")
    a.set_ylabel(r"$\|\partial h_T / \partial h_t\|_F$")
    a.set_title(f"After {steps} training steps (T={T}, start: radius 0.5)")
    a.grid(True, which="both", alpha=0.3)
    a.legend(fontsize=8)
    b.set_xlabel("training step")
    b.set_ylabel("task MSE (output x_1 after T steps; 10-step mean)")
    b.set_title("Memory task")
    b.grid(alpha=0.3)
    b.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    for name, norms, losses in rows:
        print(f"{name:28s} ||dh_T/dh_(T-1)|| {norms[-1]:.3g}  ||dh_T/dh_0|| {norms[0]:.3g}  "
              f"final task loss {losses[-10:].mean():.3f}")
    return out


def main(out: Path = OUT, max_t: int = 60, hidden: int = 32) -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover
        raise SystemExit("rnn_gradients: needs matplotlib (pip install 'chainrule[plot]')") from e
    steps = np.arange(1, max_t + 1)
    curves = [(f"tanh RNN, spectral radius {r}", jacobian_norms("rnn", steps, hidden, radius=r))
              for r in (0.5, 1.0, 1.5)]
    curves.append(("LeakyRNN alpha=0.9, radius 0.5",
                   jacobian_norms("leaky", steps, hidden, radius=0.5, alpha=0.9)))
    curves.append(("LSTM (default init)", jacobian_norms("lstm", steps, hidden)))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, norms in curves:
        ax.semilogy(steps, norms, label=label)
    ax.set_xlabel("T (time steps)")
    ax.set_ylabel(r"$\|\partial h_T / \partial h_0\|_F$")
    ax.set_title(f"Gradient norm through time (H={hidden}, inputs ~ 1e-3 N(0,1))")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    for label, norms in curves:
        print(f"{label:34s} T=1: {norms[0]:.3g}  T={max_t}: {norms[-1]:.3g}")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--max-t", type=int, default=60)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--out-regularizer", type=Path, default=OUT_REG)
    args = parser.parse_args()
    print(main(args.out, args.max_t, args.hidden))
    print(plot_regularizer(args.out_regularizer))
