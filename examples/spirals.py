"""Two interleaved spirals learned by an MLP with two hidden layers; draws the decision
boundary and the loss curve.

    python examples/spirals.py [--out runs/spirals] [--epochs 150]
"""

import argparse
import os

import chainrule as cr
from chainrule import nn
from chainrule.train import evaluate, fit

p = argparse.ArgumentParser()
p.add_argument("--out", default=os.path.join("runs", "spirals"))
p.add_argument("--epochs", type=int, default=150)
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()
os.makedirs(args.out, exist_ok=True)

X, y = cr.data.spirals(n_samples=300, n_classes=2, noise=0.05, seed=args.seed)
cr.manual_seed(args.seed)
model = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                      nn.Linear(64, 2))
history = fit(model, (X, y), loss=nn.CrossEntropyLoss(), optimizer="adam", lr=0.02,
              epochs=args.epochs, batch_size=64, metrics=["accuracy"], seed=args.seed,
              verbose=1)
res = evaluate(model, (X, y), loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
print(f"training accuracy {res['accuracy']:.4f} (loss {res['loss']:.4f})")

try:
    from chainrule.viz import plot_decision_boundary, plot_history

    plot_history(history, os.path.join(args.out, "loss_curve.png"))
    plot_decision_boundary(model, X, y, os.path.join(args.out, "decision_boundary.png"))
    print(f"wrote {args.out}/loss_curve.png and {args.out}/decision_boundary.png")
except ImportError as e:
    print(f"pictures skipped: {e}")
