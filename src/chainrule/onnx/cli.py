"""``chainrule export RUN_DIR model.onnx``: a trained run directory as an ONNX model.

The graph takes the preprocessed feature matrix (``features``, shape (batch, F), float32)
and returns the network's outputs ``logits`` plus what ``chainrule predict`` derives from
them: ``probabilities`` (sigmoid or softmax) for classification, ``values`` for regression
(e^z for counts). The preprocessing is not in the graph: the model's ``metadata_props``
hold it (``chainrule.preprocessing``: the run's Preprocessor as JSON, with the feature
order, one-hot categories, means and standard deviations), with the task, classes and
target name, so a deployment can apply the same transformation first.
"""

from __future__ import annotations

import json

from ..nn.module import Module


class _Served(Module):
    """The run's network followed by its prediction link (what ``predict`` reports)."""

    def __init__(self, model: Module, task: str):
        super().__init__()
        self.model = model
        self.task = task

    def forward(self, x):
        z = self.model(x)
        if self.task == "binary":
            return z, z.sigmoid()
        if self.task == "multiclass":
            return z, z.softmax(1)
        if self.task == "count":
            return z, z.exp()
        return z, z


def add_parser(sub) -> None:
    """Register the ``export`` subcommand on the CLI's subparsers."""
    e = sub.add_parser("export", help="write a run directory's model as an ONNX file")
    e.add_argument("dir", help="a run directory written by 'chainrule train'")
    e.add_argument("out", help="the .onnx file to write")
    e.add_argument("--opset", type=int, default=None, help="ONNX opset (17 or later; "
                   "default 18)")
    e.add_argument("--static-batch", action="store_true",
                   help="fix the batch size to 1 (default: a dynamic batch dimension)")


def export_run(a) -> int:
    """Run ``chainrule export`` with parsed arguments ``a``; returns the exit code."""
    from .. import __version__, randn
    from ..train.run import load_run
    from .export import export
    from .errors import UnsupportedOperatorError

    run = load_run(a.dir)
    pre = run.preprocessor
    n_features = len(pre.feature_names)
    task = run.head.task
    second = "probabilities" if task in ("binary", "multiclass") else "values"
    meta = {
        "chainrule.version": __version__,
        "chainrule.input": (f"features: float32 (batch, {n_features}), the columns "
                            f"{', '.join(pre.features)} after chainrule.preprocessing "
                            "(one-hot categories, standardized numbers), in the order of "
                            "chainrule.feature_names"),
        "chainrule.preprocessing": pre.to_json(),
        "chainrule.feature_names": json.dumps(pre.feature_names),
        "chainrule.task": task,
        "chainrule.target": str(run.config.get("target")),
        "chainrule.classes": json.dumps(run.config.get("classes")),
        "chainrule.outputs": f"logits: the network's outputs; {second}: {run.head.describe()}",
    }
    dyn = None if a.static_batch else {
        "features": {0: "batch"}, "logits": {0: "batch"}, second: {0: "batch"}}
    try:
        prog = export(_Served(run.model, task), (randn(1, n_features),), a.out,
                      input_names=["features"], output_names=["logits", second],
                      opset_version=a.opset, dynamic_axes=dyn, metadata_props=meta)
    except ImportError as e:
        raise ValueError(str(e)) from None
    except UnsupportedOperatorError as e:
        raise ValueError(f"cannot export {a.dir}: {e}") from None
    g = prog.model_proto.graph
    batch = "1" if a.static_batch else "batch"
    print(f"wrote {a.out}: {len(g.node)} ONNX nodes, opset "
          f"{prog.model_proto.opset_import[0].version}; input 'features' ({batch}, "
          f"{n_features}); outputs 'logits', '{second}'")
    print("the preprocessing to apply first is in the model's metadata_props "
          "('chainrule.preprocessing')")
    return 0
