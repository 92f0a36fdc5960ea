"""``chainrule.device``: chainrule runs on the CPU only; the object exists so that PyTorch code
that names a device (``device = torch.device("cuda" if torch.cuda.is_available() else
"cpu")``) runs unchanged."""

from __future__ import annotations


class device:  # noqa: N801 - mirrors torch.device
    """A device description; only ``"cpu"`` is usable."""

    __slots__ = ("type", "index")

    def __init__(self, type: str = "cpu", index: int | None = None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        kind, _, idx = str(type).partition(":")
        self.type = kind
        self.index = int(idx) if idx else index

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else (
            f"device(type='{self.type}', index={self.index})")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


def check_cpu(dev, op: str) -> None:
    """Raise a clear error for any device other than the CPU."""
    kind = dev.type if isinstance(dev, device) else str(dev).partition(":")[0]
    if kind != "cpu":
        raise RuntimeError(
            f"{op}: chainrule runs on the CPU only; got device {str(dev)!r} "
            "(use 'cpu', or torch for GPUs)"
        )
