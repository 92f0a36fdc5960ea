"""chainrule.onnx.export: every model kind runs in onnxruntime within 1e-5 of chainrule
(float32), with a dynamic batch size; unsupported operations are named."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.activation as A
from chainrule import models, nn
from chainrule.onnx import UnsupportedOperatorError, TrainingMode

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _outputs(y):
    if isinstance(y, cr.Tensor):
        return [y]
    out = []
    for i in y:
        out += _outputs(i)
    return out


def _check(model, x, dynamic=True, tol=1e-5, batches=(None, 5), **kw):
    """Export with a dynamic first axis; compare onnxruntime with chainrule at two batch
    sizes (the exported one and another)."""
    model.eval()
    prog = cr.onnx.export(model, (x,), input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}} if dynamic else None, **kw)
    sess = ort.InferenceSession(prog.model_proto.SerializeToString(),
                                providers=["CPUExecutionProvider"])
    for n in batches if dynamic else (None,):
        xx = x if n is None else cr.randn(n, *x.shape[1:])
        with cr.no_grad():
            refs = _outputs(model(xx))
        got = sess.run(None, {"x": xx.numpy()})
        assert len(got) == len(refs)
        for r, g in zip(refs, got):
            assert g.shape == tuple(r.shape)
            np.testing.assert_allclose(g, r.numpy(), rtol=0, atol=tol)
    return prog


@pytest.mark.parametrize("name", A.__all__)
def test_every_activation(name):
    cls = getattr(A, name)
    if name == "Maxout":
        model = cls(4, 3, 2)
    elif name in ("Softmax", "LogSoftmax", "Softmin"):
        model = nn.Sequential(nn.Linear(4, 4), cls(dim=1))
    elif name == "Threshold":
        model = nn.Sequential(nn.Linear(4, 4), cls(0.1, 20.0))
    else:
        model = nn.Sequential(nn.Linear(4, 4), cls())
    x = cr.randn(3, 4) * 3
    x[0, 0] = 0.0  # the step's value at 0
    _check(model, x)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_and_eswish(approximate):
    _check(nn.Sequential(nn.Linear(4, 4), nn.GELU(approximate=approximate)), cr.randn(3, 4))
    _check(nn.Sequential(nn.Linear(4, 4), nn.ESwish(beta=1.5)), cr.randn(3, 4))


@pytest.mark.parametrize("build,x", [
    (lambda: models.mlp([4, 8, 3], activation="tanh", dropout=0.1, batchnorm=True),
     cr.randn(3, 4)),
    (lambda: models.lenet5(), cr.randn(2, 1, 28, 28)),
    (lambda: models.resnet(depths=(1, 1), widths=(4, 8)), cr.randn(2, 3, 16, 16)),
    (lambda: models.cnn1d(2, 5, 32), cr.randn(2, 2, 32)),
    (lambda: models.rnn_classifier("rnn", 3, 8, num_classes=4), cr.randn(2, 5, 3)),
    (lambda: models.rnn_classifier("lstm", 3, 8, num_classes=4, num_layers=2,
                                   bidirectional=True), cr.randn(2, 5, 3)),
    (lambda: models.rnn_classifier("gru", 3, 8, num_classes=4, num_layers=2,
                                   bidirectional=True), cr.randn(2, 5, 3)),
])
def test_model_zoo(build, x):
    _check(build(), x)


def test_cnn_layers_pools_batchnorm_eval():
    cr.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, stride=2, dilation=1, groups=2),
        nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
        nn.MaxPool2d(2, ceil_mode=True), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        nn.Linear(24, 3))
    model(cr.randn(4, 1, 20, 20))  # batch statistics in the running averages
    _check(model, cr.randn(2, 1, 20, 20))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_batch_first_and_not(kind):
    cls = getattr(nn, kind)
    _check(cls(3, 5, num_layers=2, batch_first=True), cr.randn(2, 4, 3))
    model = cls(3, 5, nonlinearity="relu") if kind == "RNN" else cls(3, 5)
    model.eval()
    prog = cr.onnx.export(model, (cr.randn(4, 2, 3),), input_names=["x"])
    sess = ort.InferenceSession(prog.model_proto.SerializeToString())
    x = cr.randn(4, 2, 3)
    got = sess.run(None, {"x": x.numpy()})
    with cr.no_grad():
        refs = _outputs(model(x))
    for r, g in zip(refs, got):
        np.testing.assert_allclose(g, r.numpy(), atol=1e-5)
    ops = {n.op_type for n in prog.model_proto.graph.node}
    assert kind in ops  # the fused ONNX operator, not an unrolled loop


class _Attention(nn.Module):
    """Causal self-attention from primitives (matmul, softmax, layer norm, masked_fill)."""

    def __init__(self, d=8, heads=2):
        super().__init__()
        self.qkv, self.out, self.norm, self.h = nn.Linear(d, 3 * d), nn.Linear(d, d), \
            nn.LayerNorm(d), heads

    def forward(self, x):
        n, t, d = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        split = lambda z: z.reshape(n, t, self.h, d // self.h).transpose(1, 2)  # noqa: E731
        q, k, v = split(q), split(k), split(v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.h)
        mask = cr.from_numpy(np.triu(np.ones((t, t), bool), 1))
        att = scores.masked_fill(mask, float("-inf")).softmax(-1) @ v
        return self.norm(x + self.out(att.transpose(1, 2).reshape(n, t, d)))


def test_attention_primitives():
    _check(_Attention(), cr.randn(2, 6, 8))


def test_names_file_metadata_and_params(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
    path = tmp_path / "m.onnx"
    prog = cr.onnx.export(model, (cr.randn(2, 4),), path, input_names=["features"],
                          output_names=["scores"], opset_version=17,
                          metadata_props={"preprocessing": "standardize"})
    loaded = onnx.load(str(path))
    assert [i.name for i in loaded.graph.input] == ["features"]
    assert [o.name for o in loaded.graph.output] == ["scores"]
    assert loaded.opset_import[0].version == 17
    assert {p.key: p.value for p in loaded.metadata_props} == {"preprocessing": "standardize"}
    assert len(loaded.graph.initializer) >= 2
    x = cr.randn(2, 4)
    np.testing.assert_allclose(prog(x)[0].numpy(), model(x).detach().numpy(), atol=1e-6)
    no_params = cr.onnx.export(model, (x,), export_params=False)
    assert len(no_params.model_proto.graph.input) == 3  # x, 0.weight, 0.bias
    assert "ONNXProgram(opset 18" in repr(no_params)


def test_training_mode_is_restored_and_preserved():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    cr.onnx.export(model, (cr.randn(2, 4),))
    assert model.training  # exported in eval mode, then put back
    prog = cr.onnx.export(model.eval(), (cr.randn(2, 4),), training=TrainingMode.PRESERVE)
    assert not model.training and "Dropout" not in str(prog.model_proto)


def test_unsupported_operations_are_named():
    with pytest.raises(UnsupportedOperatorError, match="CrossEntropy"):
        cr.onnx.export(lambda x: nn.functional.cross_entropy(x, cr.tensor([0, 1])),
                       (cr.randn(2, 3),))
    model = nn.Sequential(nn.MaxPool2d(2, return_indices=True))
    with pytest.raises(UnsupportedOperatorError, match="return_indices"):
        cr.onnx.export(model, (cr.randn(1, 1, 4, 4),))
    with pytest.raises(ValueError, match="opset_version 13"):
        cr.onnx.export(nn.Linear(2, 2), (cr.randn(1, 2),), opset_version=13)
    with pytest.raises(ValueError, match="not an input or output"):
        cr.onnx.export(nn.Linear(2, 2), (cr.randn(1, 2),), dynamic_axes={"y": [0]})


def test_missing_onnx_package_names_the_extra(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "onnx":
            raise ImportError("no onnx")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"chainrule\[onnx\]"):
        cr.onnx.export(nn.Linear(2, 2), (cr.randn(1, 2),))


_HAS_MHA = hasattr(nn, "MultiheadAttention")


@pytest.mark.skipif(not _HAS_MHA, reason="nn.MultiheadAttention is not in this tree yet")
@pytest.mark.parametrize("kind", ["mha", "mha_causal", "encoder_layer", "encoder"])
def test_multihead_attention_and_transformers(kind):
    cr.manual_seed(0)
    if kind in ("mha", "mha_causal"):
        mha = nn.MultiheadAttention(8, 2, batch_first=True)
        mask = cr.from_numpy(np.triu(np.ones((5, 5), bool), 1)) if kind == "mha_causal" \
            else None

        class SelfAttention(nn.Module):
            def __init__(self):
                super().__init__()
                self.mha = mha

            def forward(self, x):
                return self.mha(x, x, x, attn_mask=mask, need_weights=False)[0]

        model, x = SelfAttention(), cr.randn(2, 5, 8)
    elif kind == "encoder_layer":
        model = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        x = cr.randn(2, 5, 8)
    else:
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        model, x = nn.TransformerEncoder(layer, 2), cr.randn(2, 5, 8)
    _check(model, x)
