"""Fit y = 3x + 2 by hand-written gradient descent with .backward() (the README's first example)."""

import chainrule as cr

cr.manual_seed(0)
x = cr.linspace(-1, 1, 100)
y = 3 * x + 2 + 0.1 * cr.randn(100)

w = cr.zeros(1, requires_grad=True)
b = cr.zeros(1, requires_grad=True)
for _ in range(200):
    loss = ((w * x + b - y) ** 2).mean()
    loss.backward()
    with cr.no_grad():
        w -= 0.1 * w.grad
        b -= 0.1 * b.grad
    w.grad = None
    b.grad = None
print(f"w = {w.item():.3f}, b = {b.item():.3f}, loss = {loss.item():.4f}")
