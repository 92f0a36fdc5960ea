"""``chainrule.onnx.export`` (PyTorch's ``torch.onnx.export``): a model as an ONNX file.

The model's forward is recorded with ``chainrule.export`` (the compiler's IR) and each
node is translated by its row in ops.py (primitives) or numpy_ops.py (NumPy-level nodes).
Nodes computed from constants only (masks built from ``arange``, averaging matrices, the
batch-norm scale and shift when ``do_constant_folding``) are evaluated here and stored as
initializers. ``dynamic_axes`` records the forward a second time with those axes resized:
sizes that change become symbolic dimensions, and shape arguments that change are written
in forms that follow the input (a -1 in a reshape, a 1 in an expand). The ``onnx`` package
is needed (the ``[onnx]`` extra); onnxruntime is only used to run or check the result.
"""

from __future__ import annotations

import enum
import os

import numpy as np

from ..compiler.interp import GuardFailedError, run_node
from ..compiler.program import Value
from ..nn.module import Module
from ..tensor import Tensor
from .builder import Builder
from .numpy_ops import NUMPY
from .errors import UnsupportedOperatorError
from .ops import PRIMITIVES

DEFAULT_OPSET = 18
MIN_OPSET = 17


class TrainingMode(enum.IntEnum):
    """The train/eval mode the model is exported in (``torch.onnx.TrainingMode``)."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "chainrule.onnx.export needs the 'onnx' package: pip install 'chainrule[onnx]' "
            "(or pip install onnx)") from None
    return onnx


class ONNXProgram:
    """The result of ``export`` (``torch.onnx.ONNXProgram``): ``model_proto`` is the ONNX
    ``ModelProto``; ``save(path)`` writes it; calling it runs it with onnxruntime."""

    def __init__(self, model_proto, input_names, output_names):
        self.model_proto = model_proto
        self.input_names = input_names
        self.output_names = output_names
        self._session = None

    def save(self, destination) -> None:
        _onnx().save_model(self.model_proto, os.fspath(destination))

    def __call__(self, *args):
        if self._session is None:
            try:
                import onnxruntime
            except ImportError:
                raise ImportError("running an ONNXProgram needs onnxruntime: pip install "
                                  "onnxruntime") from None
            self._session = onnxruntime.InferenceSession(
                self.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
        feeds = {name: (a._data if isinstance(a, Tensor) else np.asarray(a))
                 for name, a in zip(self.input_names, args)}
        return [Tensor._make(o, False, None, 0) for o in self._session.run(None, feeds)]

    def __repr__(self) -> str:
        g = self.model_proto.graph
        return (f"ONNXProgram(opset {self.model_proto.opset_import[0].version}, "
                f"{len(g.node)} nodes, inputs {self.input_names}, outputs {self.output_names})")


def _dynamic(dynamic_axes, names):
    """``{name: {axis: dim name}}`` from torch's two forms ({name: {0: 'batch'}} or
    {name: [0]})."""
    out = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in names:
            raise ValueError(f"chainrule.onnx.export: dynamic_axes names {name!r}, which is "
                             f"not an input or output name ({', '.join(names)})")
        if isinstance(axes, dict):
            out[name] = {int(k): str(v) for k, v in axes.items()}
        else:
            out[name] = {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(axes)}
    return out


def _resized(args, dyn_in):
    """The example arguments with every dynamic input axis doubled (1 becomes 2)."""
    out = list(args)
    for i, axes in dyn_in.items():
        arr = args[i]._data
        shape = list(arr.shape)
        for ax in axes:
            shape[ax] = shape[ax] * 2 if shape[ax] else 2
        reps = [s // n if n else 1 for s, n in zip(shape, arr.shape)]
        out[i] = Tensor._make(np.tile(arr, reps)[tuple(slice(0, s) for s in shape)], False,
                              None, 0)
    return tuple(out)


def _align(ep_a, ep_b):
    """Value and node correspondence between two recordings of the same forward."""
    na, nb = ep_a.graph.nodes, ep_b.graph.nodes
    if [n.op for n in na] != [n.op for n in nb]:
        raise UnsupportedOperatorError("the model runs different operations when the dynamic axes change "
                        "size (its Python code depends on them): export without dynamic_axes")
    twin, nodes = {}, {}
    twin.update(zip(ep_a.graph.inputs, ep_b.graph.inputs))
    named = {v.name: v for v in ep_b.graph.values if v.kind in ("param", "buffer", "tensor")}
    for v in ep_a.graph.values:
        if v.name in named and v.kind == named[v.name].kind:
            twin[v] = named[v.name]
    consts = lambda ep: [v for v in ep.graph.values if v.kind == "const"]  # noqa: E731
    twin.update(zip(consts(ep_a), consts(ep_b)))
    for a, b in zip(na, nb):
        if len(a.outputs) != len(b.outputs):
            raise UnsupportedOperatorError(f"{a.op} has another number of outputs when the "
                                           "dynamic axes change size")
        nodes[a] = b
        twin.update(zip(a.outputs, b.outputs))
    return twin, nodes


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None,
           output_names=None, opset_version=None, dynamo=True, external_data=True,
           dynamic_shapes=None, custom_translation_table=None, report=False, optimize=True,
           verify=False, profile=False, dump_exported_program=False, artifacts_dir=".",
           export_params=True, keep_initializers_as_inputs=False, dynamic_axes=None,
           training=TrainingMode.EVAL, operator_export_type=None, do_constant_folding=True,
           custom_opsets=None, export_modules_as_functions=False, autograd_inlining=True,
           metadata_props=None):
    """Export ``model(*args)`` as an ONNX model (``torch.onnx.export``'s signature).

    Args:
        model: an ``nn.Module`` (or a function of tensors).
        args: example inputs (a tuple; a single tensor is accepted).
        f: where to write the ``.onnx`` file (optional: the ``ONNXProgram`` is returned).
        input_names, output_names: names of the graph's inputs and outputs.
        opset_version: 17 or later (default 18).
        dynamic_axes: ``{name: {axis: "dim name"}}`` (or ``{name: [axis]}``): axes whose
            size may change, e.g. ``{"input": {0: "batch"}, "output": {0: "batch"}}``.
        export_params: store the parameters in the file (otherwise they are inputs).
        training: ``TrainingMode.EVAL`` (default: the model is exported in eval mode and
            put back), ``PRESERVE`` or ``TRAINING``.
        do_constant_folding: precompute what depends on parameters only.
        verbose: print the ONNX graph.
        metadata_props: ``{key: value}`` strings stored in the model (chainrule's
            extension, used by ``chainrule export``).

    Other arguments of ``torch.onnx.export`` are accepted and ignored where they concern
    PyTorch's own machinery (``dynamo``, ``optimize``, ``report``, ...).

    Returns: an ``ONNXProgram``.

    Example::

        cr.onnx.export(model, (cr.randn(1, 784),), "model.onnx", input_names=["x"],
                       output_names=["logits"], dynamic_axes={"x": {0: "batch"},
                                                              "logits": {0: "batch"}})
    """
    onnx = _onnx()
    from ..compiler.export import export as record

    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if opset < MIN_OPSET:
        raise ValueError(f"chainrule.onnx.export: opset_version {opset} is not supported "
                         f"(use {MIN_OPSET} or later)")
    if dynamic_shapes is not None:
        raise NotImplementedError("chainrule.onnx.export: dynamic_shapes is not supported; "
                                  "use dynamic_axes={name: {axis: 'dim name'}}")
    if isinstance(args, Tensor):
        args = (args,)
    args = tuple(args)
    modes = None
    if isinstance(model, Module) and training != TrainingMode.PRESERVE:
        modes = [(m, m.training) for m in model.modules()]
        model.train(training == TrainingMode.TRAINING)
    try:
        ep = record(model, args, kwargs)
        n_in = len(ep.graph.inputs)
        in_names = list(input_names or [])[:n_in]
        in_names += [f"input_{i}" if n_in > 1 else "input" for i in range(len(in_names), n_in)]
        n_out = len(ep._out_vals)
        out_names = list(output_names or [])[:n_out]
        out_names += [f"output_{i}" if n_out > 1 else "output"
                      for i in range(len(out_names), n_out)]
        dyn = _dynamic(dynamic_axes, in_names + out_names)
        twin = nodes = None
        dyn_in = {i: d for i, name in enumerate(in_names) if (d := dyn.get(name))}
        if dyn_in:
            ep_b = record(model, _resized(args, dyn_in), kwargs)
            twin, nodes = _align(ep, ep_b)
    finally:
        for m, mode in modes or ():
            m.__dict__["training"] = mode
    b = Builder(onnx, opset, twin, nodes or {})
    for i, axes in dyn_in.items():
        va = ep.graph.inputs[i]
        vb = twin[va]
        b.sizes += [(in_names[i], ax, va.shape[ax], vb.shape[ax]) for ax in axes]
    graph = _translate(b, ep, in_names, out_names, dyn, export_params, do_constant_folding,
                       keep_initializers_as_inputs)
    model_proto = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", opset)],
        producer_name="chainrule", producer_version=_version())
    for k, v in (metadata_props or {}).items():
        entry = model_proto.metadata_props.add()
        entry.key, entry.value = str(k), str(v)
    onnx.checker.check_model(model_proto)
    if verbose:
        print(onnx.helper.printable_graph(model_proto.graph))
    prog = ONNXProgram(model_proto, in_names, out_names)
    if f is not None:
        prog.save(f)
    return prog


def _version() -> str:
    from .. import __version__

    return __version__


def _translate(b, ep, in_names, out_names, dyn, export_params, fold, keep_inputs):
    helper = b.helper
    graph_inputs, env = [], b.known
    for v, name in zip(ep.graph.inputs, in_names):
        b.set(v, name)
        graph_inputs.append(_info(helper, name, v, dyn.get(name, {}), b))
    for v in ep.graph.values:
        if v.kind == "const":
            env[v] = np.asarray(v.data)
        elif v.kind in ("param", "buffer", "tensor"):
            if export_params and fold:
                env[v] = v.data._data
            elif export_params:
                b.set(v, b.const(v.data._data, v.name.replace(".", "_")))
            else:
                name = v.name.replace(".", "_")
                b.set(v, name)
                graph_inputs.append(_info(helper, name, v, {}, b))
    for k, n in enumerate(ep.graph.nodes):
        ins = [u for u in n.values_in() if type(u) is Value]
        if n.kind == "guard" or (n.kind != "rng" and all(u in env for u in ins)):
            try:
                run_node(n, env)  # constants only: computed now
            except GuardFailedError:
                pass
            continue
        conv = _row(n)
        try:
            outs = conv(b, n)
        except KeyError as e:
            raise UnsupportedOperatorError(f"chainrule.onnx.export: node {k} ({n.op}) reads {e.args[0]}, "
                            "which has no ONNX value") from None
        except UnsupportedOperatorError as e:
            raise UnsupportedOperatorError(f"chainrule.onnx.export: node {k}: {e}") from None
        for v, name in zip(n.outputs, outs):
            b.set(v, name)
    outputs = []
    for v, name in zip(ep._out_vals, out_names):
        src = b.name(v)
        b.nodes.append(helper.make_node("Identity", [src], [name], name=f"output_{name}"))
        outputs.append(_info(helper, name, v, dyn.get(name, {}), b))
    inits = list(b.inits.values())
    if keep_inputs:
        graph_inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                         for t in inits]
    return helper.make_graph(b.nodes, ep.graph.name, graph_inputs, outputs, inits)


def _row(n):
    if n.kind == "prim":
        conv = PRIMITIVES.get(n.fn.__name__)
        if conv is None:
            raise UnsupportedOperatorError(f"chainrule.onnx.export: no ONNX mapping for the primitive "
                            f"{n.fn.__name__} (it appears in training graphs and losses, or "
                            "is not supported yet)")
        return conv
    key = f"{n.kind}:{n.op[3:] if n.op.startswith('np.') else n.op.lstrip('.')}"
    conv = NUMPY.get(key)
    if conv is None:
        raise UnsupportedOperatorError(f"chainrule.onnx.export: no ONNX mapping for the NumPy operation "
                        f"{n.op} ({n.kind})")
    return conv


def _info(helper, name, v, named_axes, b):
    dims = []
    dyn = b.dynamic(v)
    for i, s in enumerate(v.shape):
        if i in named_axes:
            dims.append(named_axes[i])
        elif i in dyn:
            dims.append(f"{name}_dim_{i}")
        else:
            dims.append(int(s))
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(v.dtype), dims)
