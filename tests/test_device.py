"""Device idioms of PyTorch code run unchanged on the CPU; GPU requests fail clearly."""

import pytest

import chainrule as cr


def test_the_usual_device_selection_gives_the_cpu():
    dev = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    assert cr.cuda.is_available() is False and cr.cuda.device_count() == 0
    assert repr(dev) == "device(type='cpu')" and str(dev) == "cpu"
    model = cr.nn.Linear(2, 3).to(dev)
    x = cr.randn(4, 2).to(dev)
    out = model(x).detach().cpu().numpy()
    assert out.shape == (4, 3)
    assert x.device == dev == "cpu" and not x.is_cuda


def test_gpu_requests_raise_a_clear_error():
    x = cr.randn(2)
    with pytest.raises(RuntimeError, match="chainrule runs on the CPU only"):
        x.cuda()
    with pytest.raises(RuntimeError, match="got device 'cuda:0'"):
        x.to(device="cuda:0")
    with pytest.raises(RuntimeError, match="got device 'cuda'"):
        cr.nn.Linear(2, 2).to("cuda")


def test_type_names_and_converts_like_pytorch():
    x = cr.randn(2)
    assert x.type() == "chainrule.FloatTensor"
    assert x.type(cr.float64).dtype == cr.float64
    assert x.type("torch.LongTensor").dtype == cr.int64
    assert cr.tensor([True]).type() == "chainrule.BoolTensor"
