"""``chainrule.export`` (PyTorch's ``torch.export.export``): a model's forward as a program.

``export(model, args)`` runs ``model(*args)`` once with grad mode off while recording it
(the same recorder as ``chainrule.compile``, with ``fullgraph=True``: anything that cannot
be recorded raises) and returns an ``ExportedProgram``: the nodes (primitives with their
NumPy bodies), inputs, outputs, shapes and dtypes, printable as a table, runnable
(``ep(*args)``, ``ep.module()``) at the exported shapes, and savable as one safetensors
file: the weights and constant arrays as entries, the program as JSON in the metadata
(``ep.save(path)``, ``chainrule.export.load(path)``; no pickle).
"""

from __future__ import annotations

import json

import numpy as np

from ..autograd.grad_mode import no_grad
from ..nn.module import Module
from ..tensor import Tensor
from .compiled import CompiledFunction
from .torch_api import _exporting
from .guards import data_of, signature
from .program import Program, Value
from .replay import GuardMissError, plan
from .serialize import Decoder, Encoder, FormatError
from .spec import build

FORMAT = "chainrule.export"


class ExportedProgram:
    """A recorded forward pass (``torch.export.ExportedProgram``).

    Attributes:
        graph: the program (``print(ep.graph)`` shows its nodes as a table;
            ``ep.graph.nodes`` lists them).
        graph_signature: which inputs are parameters, buffers and user inputs.
        state_dict: the parameters and buffers by name (tensors).
        example_inputs: ``(args, kwargs)`` it was exported with.
    """

    def __init__(self, program: Program, inputs_spec, out_vals, example_inputs):
        self.graph = program
        self._in = inputs_spec  # [(shape, dtype)] of the tensor arguments, in order
        self._out_vals = out_vals
        self.example_inputs = example_inputs
        self._plan = None

    # -- what it holds ---------------------------------------------------------------------
    @property
    def state_dict(self) -> dict:
        return {v.name: v.data for v in self.graph.values if v.kind in ("param", "buffer")}

    @property
    def constants(self) -> dict:
        return {v.name: v.data for v in self.graph.values if v.kind == "const"}

    @property
    def graph_signature(self) -> dict:
        """``{"parameters": [...], "buffers": [...], "user_inputs": [...],
        "user_outputs": [...]}`` (names of the values)."""
        vals = self.graph.values
        return {"parameters": [v.name for v in vals if v.kind == "param"],
                "buffers": [v.name for v in vals if v.kind == "buffer"],
                "user_inputs": [v.name for v in self.graph.inputs],
                "user_outputs": [v.name for v in self._out_vals]}

    def __str__(self) -> str:
        sig = self.graph_signature
        head = [f"ExportedProgram {self.graph.name}:",
                f"  inputs: {', '.join(f'{v.name} {v.shape} {v.dtype}' for v in self.graph.inputs)}",
                f"  parameters: {', '.join(sig['parameters']) or '-'}",
                f"  buffers: {', '.join(sig['buffers']) or '-'}", ""]
        return "\n".join(head) + self.graph.tabular()

    def __repr__(self) -> str:
        return f"<ExportedProgram {self.graph.name}: {len(self.graph.nodes)} nodes>"

    # -- running ---------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        _, tensors = signature(args, kwargs)
        if len(tensors) != len(self._in):
            raise TypeError(f"ExportedProgram {self.graph.name}: expected {len(self._in)} "
                            f"tensor inputs, got {len(tensors)}")
        arrays = [data_of(t) for t in tensors]
        for i, (a, (shape, dtype)) in enumerate(zip(arrays, self._in)):
            if a.shape != shape or a.dtype != dtype:
                raise RuntimeError(
                    f"ExportedProgram {self.graph.name}: expected input {i} of shape "
                    f"{tuple(shape)} and dtype {dtype} (as exported), got "
                    f"{tuple(a.shape)} {a.dtype}; export again with this shape, "
                    "or use chainrule.compile, which records one program per shape")
        if self._plan is None:
            self._plan = plan(self.graph.nodes, self.graph.inputs, self._out_vals,
                              f"{self.graph.name}_exported")
        try:
            res = self._plan.run(*arrays)
        except GuardMissError:
            raise RuntimeError(
                f"ExportedProgram {self.graph.name}: these inputs take another branch than "
                "the exported ones (a value the forward reads in Python differs)") from None
        return build(self.graph.outputs, res, tensors, None, self._plan.copies)

    def module(self) -> Module:
        """An ``nn.Module`` whose forward runs this program."""
        return ExportedModule(self)

    def run_decompositions(self, decomp_table=None) -> ExportedProgram:
        """Already made of chainrule's primitives and NumPy calls: returns itself."""
        return self

    def save(self, f) -> None:
        save(self, f)


class ExportedModule(Module):
    """``ExportedProgram.module()``: calling it runs the program."""

    def __init__(self, ep: ExportedProgram):
        super().__init__()
        self.__dict__["_program"] = ep

    def forward(self, *args, **kwargs):
        return self._program(*args, **kwargs)

    def state_dict(self, *args, **kwargs):
        return dict(self._program.state_dict)

    def extra_repr(self) -> str:
        return f"{len(self._program.graph.nodes)} nodes"


def export(mod, args, kwargs=None, *, dynamic_shapes=None, strict=False,
           preserve_module_call_signature=()):
    """Record ``mod(*args, **kwargs)`` (grad mode off) into an ``ExportedProgram``.

    Args:
        mod: an ``nn.Module`` (or a function of tensors).
        args: a tuple of example arguments (the program is specialised to their shapes).
        kwargs: example keyword arguments.
        dynamic_shapes: not supported (None): a program has the shapes it was exported
            with (``chainrule.onnx.export`` makes dimensions dynamic with ``dynamic_axes``).

    Raises ``chainrule.compiler.Unsupported`` for what cannot be recorded (the forward
    reads a tensor's value after a side effect, registers hooks, ...).

    Example::

        ep = cr.export(model, (cr.randn(1, 784),))
        print(ep)
        ep.save("model.pt2")
        ep2 = cr.export.load("model.pt2")
    """
    if dynamic_shapes is not None:
        raise NotImplementedError("chainrule.export: dynamic_shapes is not supported; the "
                                  "program is specialised to the example inputs' shapes")
    if not isinstance(args, tuple):
        raise TypeError(f"chainrule.export: args must be a tuple of example inputs, got "
                        f"{type(args).__name__} (write (x,) for one input)")
    kwargs = kwargs or {}
    name = type(mod).__name__ if isinstance(mod, Module) else getattr(mod, "__name__", "fn")
    cf = CompiledFunction(mod, fullgraph=True, name=name)
    _exporting[0] += 1
    try:
        with no_grad():
            cf(*args, **kwargs)
    finally:
        _exporting[0] -= 1
    entry = cf.last
    _, tensors = signature(args, kwargs)
    ep = ExportedProgram(entry.program, [(data_of(t).shape, data_of(t).dtype) for t in tensors],
                         entry.out_vals, (args, kwargs))
    ep._plan = entry.plan
    return ep


_DTYPES = frozenset(("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                     "uint8", "uint16", "uint32", "uint64", "bool"))


def _spec_json(spec, enc, holders):
    kind = spec[0]
    if kind in ("val", "nd"):
        return {kind: spec[1]}
    if kind == "arg":
        return {"arg": spec[1]}
    if kind == "obj":
        return {"param": holders[id(spec[1])]}
    if kind == "const":
        return {"const": enc.arg(spec[1])}
    if kind == "tuple":
        return {"tuple": [_spec_json(s, enc, holders) for s in spec[2]]}
    if kind == "list":
        return {"list": [_spec_json(s, enc, holders) for s in spec[1]]}
    return {"dict": [[k, _spec_json(s, enc, holders)] for k, s in spec[2]]}


def _spec_back(d, dec, values):
    (tag, v), = d.items()
    if tag in ("val", "nd"):
        return (tag, int(v), None)
    if tag == "arg":
        return ("arg", int(v))
    if tag == "param":
        return ("obj", dec.val(v).data)
    if tag == "const":
        return ("const", dec.arg(v))
    if tag == "tuple":
        return ("tuple", tuple, [_spec_back(s, dec, values) for s in v])
    if tag == "list":
        return ("list", [_spec_back(s, dec, values) for s in v])
    if tag == "dict":
        return ("dict", dict, [(k, _spec_back(s, dec, values)) for k, s in v])
    dec.fail(f"malformed output spec {d!r:.60}")


def save(ep: ExportedProgram, f) -> None:
    """Write ``ep`` as one safetensors file: weights (``w.<name>``) and constant arrays as
    entries, the program as JSON in the metadata (``torch.export.save``)."""
    import safetensors.numpy

    from ..serialization import _atomic_write

    prog = ep.graph
    enc = Encoder()
    values, weights, holders = [], {}, {}
    for v in prog.values:
        d = {"id": v.id, "name": v.name, "kind": v.kind, "shape": list(v.shape),
             "dtype": v.dtype.name, "base": None if v.base is None else v.base.id}
        if v.kind in ("param", "buffer", "tensor"):
            weights[f"w.{v.id}"] = np.array(v.data._data, order="C")
            holders[id(v.data)] = v.id
        elif v.kind == "const":
            d["const"] = enc.arg(np.asarray(v.data))
        elif v.kind not in ("input", "temp"):
            raise FormatError(f"chainrule.export.save: a program with {v.kind} values "
                              "(gradients) cannot be saved; export the forward")
        values.append(d)
    body = {"name": prog.name, "values": values,
            "nodes": [enc.node(n) for n in prog.nodes],
            "inputs": [v.id for v in prog.inputs],
            "results": [v.id for v in ep._out_vals],
            "outputs": _spec_json(prog.outputs, enc, holders)}
    arrays = {**weights, **enc.arrays}
    meta = {"format": FORMAT, "version": "1", "program": json.dumps(body)}
    data = safetensors.numpy.save(arrays, metadata=meta)
    if hasattr(f, "write"):
        f.write(data)
    else:
        _atomic_write(str(f), data)


def load(f) -> ExportedProgram:
    """Read a program written by ``save`` (``torch.export.load``). Nothing is executed
    while reading; every operation name is checked against chainrule's allowlists."""
    import safetensors.numpy

    if hasattr(f, "read"):
        name, data = getattr(f, "name", "<file object>"), f.read()
    else:
        name = str(f)
        with open(name, "rb") as fh:
            data = fh.read()
    meta = _metadata(data, name)
    if meta.get("format") != FORMAT:
        raise FormatError(f"chainrule.export.load: {name!r} is not a chainrule.export file "
                          "(no program in its metadata)")
    try:
        body = json.loads(meta["program"])
        arrays = safetensors.numpy.load(data)
    except Exception as e:  # noqa: BLE001  (a corrupt file: one error type, naming it)
        raise FormatError(f"chainrule.export.load: {name!r} is corrupt ({e})") from None
    dec = Decoder([], arrays, name)
    try:
        values = []
        for d in body["values"]:
            if d["dtype"] not in _DTYPES or d["id"] != len(values):
                dec.fail(f"bad value record {d!r:.80}")
            values.append(Value(d["id"], tuple(int(s) for s in d["shape"]), d["dtype"],
                                d["kind"], d["name"]))
        dec.values = values
        for d, v in zip(body["values"], values):
            v.base = None if d["base"] is None else dec.val(d["base"])
            if v.kind in ("param", "buffer", "tensor"):
                arr = arrays.get(f"w.{v.id}")
                if arr is None or arr.shape != v.shape or arr.dtype != v.dtype:
                    dec.fail(f"weight {v.name!r} is missing or has the wrong shape")
                v.data = Tensor._make(arr, False, None, 0)
            elif v.kind == "const":
                v.data = dec.arg(d["const"])
            elif v.kind not in ("input", "temp"):
                dec.fail(f"unknown value kind {v.kind!r}")
        nodes = [dec.node(n) for n in body["nodes"]]
        inputs = [dec.val(i) for i in body["inputs"]]
        results = [dec.val(i) for i in body["results"]]
        spec = _spec_back(body["outputs"], dec, values)
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, FormatError):
            raise
        raise FormatError(f"chainrule.export.load: {name!r} has a malformed program ({e})") \
            from None
    program = Program(values, nodes, inputs, spec, (), body.get("name", "program"), results)
    return ExportedProgram(program, [(v.shape, v.dtype) for v in inputs], results, None)


def _metadata(data: bytes, name: str) -> dict:
    """The ``__metadata__`` of a safetensors file, its framing checked first (a pickle or
    a zip archive is named as such; nothing is unpickled)."""
    if data[:1] == b"\x80" or data[:4] == b"PK\x03\x04":
        raise FormatError(f"chainrule.export.load: {name!r} is not a chainrule.export file "
                          "(it looks like a pickle or a zip archive; chainrule never unpickles)")
    if len(data) < 8:
        raise FormatError(f"chainrule.export.load: {name!r} is truncated ({len(data)} bytes)")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise FormatError(f"chainrule.export.load: {name!r} is truncated: its header claims "
                          f"{n} bytes but {len(data) - 8} follow")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise FormatError(f"chainrule.export.load: {name!r} is not a safetensors file (its "
                          "header is not JSON)") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return meta if isinstance(meta, dict) else {}


export.load = load
export.save = save
export.ExportedProgram = ExportedProgram
