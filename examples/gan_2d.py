"""A generative adversarial network (Goodfellow et al., 2014) on a 2-D mixture of Gaussians.

The data are 8 Gaussians (std 0.05) on a circle of radius 2. A generator G maps 2-D
standard-normal noise z to points; a discriminator D maps points to a logit "real vs
generated". They play the minimax game min_G max_D E[log D(x)] + E[log(1 - D(G(z)))], with
the usual non-saturating generator loss -E[log D(G(z))] (both written with
``BCEWithLogitsLoss``), alternating one Adam step each.

This is the course's output-unit row "arbitrary continuous output -> GANs": no likelihood is
written down for G's outputs; D supplies the training signal. Progress is measured by the
energy distance between generated and real samples,

    E(P, Q) = 2 E|X - Y| - E|X - X'| - E|Y - Y'|,  X, X' ~ P,  Y, Y' ~ Q,

which is >= 0 and is 0 only when P = Q (Szekely & Rizzo, 2013).

    python examples/gan_2d.py [--steps 3000] [--out docs/gan_2d.png]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn

OUT = Path(__file__).resolve().parents[1] / "docs" / "gan_2d.png"


def ring_of_gaussians(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      rng=None) -> np.ndarray:
    """n points (float32, (n, 2)) from equal-weight Gaussians centred on a circle."""
    rng = np.random.default_rng() if rng is None else rng
    angle = 2 * math.pi * rng.integers(0, modes, n) / modes
    centres = radius * np.stack([np.cos(angle), np.sin(angle)], 1)
    return (centres + std * rng.standard_normal((n, 2))).astype(np.float32)


def energy_distance(x: np.ndarray, y: np.ndarray) -> float:
    """2 E|X - Y| - E|X - X'| - E|Y - Y'| from two samples (V-statistics, float64)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)

    def mean_dist(a, b):
        return float(np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)).mean())

    return 2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y)


def mlp(sizes) -> nn.Sequential:
    """Linear layers of the given sizes with LeakyReLU(0.2) between them."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def make_models(hidden: int = 128, noise: int = 2, seed: int = 0):
    cr.manual_seed(seed)
    G = mlp([noise, hidden, hidden, 2])
    D = mlp([2, hidden, hidden, 1])
    return G, D


def train(steps: int = 3000, batch: int = 256, hidden: int = 128, lr: float = 1e-3,
          seed: int = 0, log_every: int = 500, log=print):
    """Alternate D and G Adam steps; returns (G, D, history of (step, energy distance))."""
    rng = np.random.default_rng(seed)
    G, D = make_models(hidden, seed=seed)
    opt_g = cr.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = cr.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = cr.ones(batch, 1), cr.zeros(batch, 1)
    history = [(0, evaluate(G, seed=seed + 1))]
    for step in range(1, steps + 1):
        real = cr.tensor(ring_of_gaussians(batch, rng=rng))
        fake = G(cr.randn(batch, 2))
        # discriminator: real -> 1, generated -> 0 (the generator's graph is not needed here)
        loss_d = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        # generator, non-saturating: make D call the generated points real
        loss_g = bce(D(fake), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        if step % log_every == 0 or step == steps:
            dist = evaluate(G, seed=seed + 1)
            history.append((step, dist))
            log(f"step {step:5d}  D loss {float(loss_d):.3f}  G loss {float(loss_g):.3f}  "
                f"energy distance {dist:.4f}")
    return G, D, history


def generate(G, n: int, seed: int = 0) -> np.ndarray:
    gen = cr.Generator().manual_seed(seed)
    with cr.no_grad():
        return G(cr.randn(n, 2, generator=gen)).numpy()


def evaluate(G, n: int = 1000, seed: int = 1) -> float:
    """Energy distance between n generated and n real points (fixed seeds)."""
    real = ring_of_gaussians(n, rng=np.random.default_rng(seed))
    return energy_distance(generate(G, n, seed), real)


def plot(G, history, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    real = ring_of_gaussians(2000, rng=np.random.default_rng(5))
    fake = generate(G, 2000, seed=5)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 4.2))
    a.scatter(real[:, 0], real[:, 1], s=2, alpha=0.4, label="data")
    a.scatter(fake[:, 0], fake[:, 1], s=2, alpha=0.4, label="generator")
    a.set_aspect("equal")
    a.set_title("8 Gaussians on a ring: data vs G(z)")
    a.legend(markerscale=5, loc="upper right")
    steps, dist = zip(*history)
    b.semilogy(steps, dist, marker="o", ms=3, label="generator vs data")
    floor = energy_distance(ring_of_gaussians(1000, rng=np.random.default_rng(6)),
                            ring_of_gaussians(1000, rng=np.random.default_rng(7)))
    b.axhline(floor, color="gray", ls="--", lw=1, label="data vs data (sampling noise)")
    b.legend()
    b.set_xlabel("step")
    b.set_ylabel("energy distance (1000 vs 1000 points)")
    b.set_title("Distance to the data distribution")
    b.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(steps: int = 3000, out: Path = OUT) -> None:
    # the matrices here are small: one BLAS thread is fastest (several threads contend,
    # 2-10x slower on a busy 2-core machine); remove this line to use the default
    cr.set_num_threads(1)
    t0 = time.perf_counter()
    G, _, history = train(steps)
    print(f"untrained generator: energy distance {history[0][1]:.4f}")
    print(f"trained {steps} steps in {time.perf_counter() - t0:.0f} s")
    print(plot(G, history, out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    main(args.steps, args.out)
