"""Run directories on disk: safe reading (``load_run``) and writing that names the user's path.

Everything wrong with a run directory raises :class:`RunError` (a ``ValueError``), before
anything large is allocated:

* ``config.json`` and ``model.safetensors`` must be regular files (``os.fstat`` on a
  descriptor opened without blocking: FIFOs, devices such as a link to ``/dev/zero``, and
  directories are refused before a byte is read); reads are capped at the size ``fstat``
  declares and at :data:`MAX_CONFIG_BYTES` / :data:`MAX_MODEL_BYTES`.
* ``config.json`` may nest at most :data:`MAX_JSON_DEPTH` levels (checked on the bytes,
  before ``json.loads``, so a 100,000-deep file is one clear error, not a RecursionError),
  and every field ``load_run`` uses is type-checked.
* The architecture in ``config.json`` is compared with the tensors actually stored in
  ``model.safetensors`` (names and shapes) before the model is built, so a config claiming
  ``"hidden": [1000000, 1000000]`` is refused without allocating it: the model's size is
  bounded by the weights file's real size.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import nn
from ..serialization import load
from ..serialization._read import json_error_text
from ._files import write_file
from .tasks import TASKS, Head

RUN_FORMAT = "chainrule.run"
RUN_FORMAT_VERSION = 1
MAX_CONFIG_BYTES = 64 * 2**20
MAX_MODEL_BYTES = 2 * 2**30
MAX_JSON_DEPTH = 64
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "silu": nn.SiLU, "selu": nn.SELU,
               "softplus": nn.Softplus}

__all__ = ["ACTIVATIONS", "LoadedRun", "RunError", "build_mlp", "load_run", "mlp_shapes",
           "read_config", "read_regular_file", "write_file"]


class RunError(ValueError):
    """A run directory that cannot be used: missing, not a run, written by another version,
    or malformed in any way (corrupt, truncated, pickled, nested too deep, oversized, not a
    regular file, architecture disagreeing with the stored weights). The message names the
    file and is meant to be printed as is."""


def _version() -> str:
    from .. import __version__

    return __version__


# -- building -------------------------------------------------------------------------------
def build_mlp(n_inputs: int, hidden, activation: str, dropout: float, head: Head):
    """``Linear -> activation [-> Dropout]`` per hidden size, then ``head.layer``
    (no hidden sizes: a linear model)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from "
                         f"{', '.join(ACTIVATIONS)}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    layers, n = [], n_inputs
    for h in hidden:
        if h < 1:
            raise ValueError(f"hidden layer sizes must be positive, got {list(hidden)}")
        layers += [nn.Linear(n, h), ACTIVATIONS[activation]()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        n = h
    layers.append(head.layer(n))
    return nn.Sequential(*layers)


def mlp_shapes(n_inputs: int, hidden, dropout: float, n_outputs: int) -> dict:
    """The ``state_dict`` names and shapes :func:`build_mlp` would create, without building."""
    shapes, n, i = {}, n_inputs, 0
    for h in hidden:
        shapes[f"{i}.weight"], shapes[f"{i}.bias"] = (h, n), (h,)
        i += 3 if dropout else 2
        n = h
    shapes[f"{i}.weight"], shapes[f"{i}.bias"] = (n_outputs, n), (n_outputs,)
    return shapes


# -- reading --------------------------------------------------------------------------------
def read_regular_file(path, limit: int, what: str) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes, else
    :class:`RunError`. Opened non-blocking and checked with ``fstat`` before reading, so a
    FIFO or a device (even behind a symlink) is refused without waiting or reading."""
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise RunError(f"{what} not found: {path}") from None
    except OSError as e:
        raise RunError(f"cannot open {what} {path}: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO"
                    if stat.S_ISFIFO(st.st_mode) else "a device" if
                    stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
            raise RunError(f"{what} {path} is {kind}, not a regular file; refusing to read it")
        if st.st_size > limit:
            raise RunError(f"{what} {path} is {st.st_size} bytes, more than the {limit} "
                           "bytes a run directory file may have")
        chunks, left = [], st.st_size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise RunError(f"cannot read {what} {path}: {e.strerror}") from None
    finally:
        os.close(fd)


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(data: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text (strings skipped), without parsing."""
    bare = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    if bare.size == 0:
        return 0
    step = (np.isin(bare, (ord("["), ord("{"))).astype(np.int64)
            - np.isin(bare, (ord("]"), ord("}"))))
    return int(np.cumsum(step).max(initial=0))


def parse_json(data: bytes, name: str, max_depth: int = MAX_JSON_DEPTH):
    """``json.loads`` after checking the encoding and the nesting depth; RunError otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RunError(f"{name} is not UTF-8 text (byte {e.start}); it is corrupt") from None
    depth = json_depth(data)
    if depth > max_depth:
        raise RunError(f"{name} nests {depth} levels deep (at most {max_depth} allowed); it "
                       "is corrupt or hostile")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise RunError(f"{name} is corrupt ({json_error_text(e)})") from None


def read_config(directory) -> dict:
    """``config.json`` of a run directory, checked (format, versions, field types)."""
    d = Path(directory)
    if not d.is_dir():
        raise RunError(f"model directory not found: {d}")
    path = d / "config.json"
    if not os.path.lexists(path):
        raise RunError(f"{d} is not a chainrule model directory (no config.json)")
    config = parse_json(read_regular_file(path, MAX_CONFIG_BYTES, "run config"), str(path))
    if not isinstance(config, dict) or config.get("format") != RUN_FORMAT:
        raise RunError(f"{path} is not a chainrule run config (format "
                       f"{config.get('format') if isinstance(config, dict) else None!r})")
    ver = str(config.get("chainrule_version", "?"))
    if config.get("format_version") != RUN_FORMAT_VERSION or \
            ver.split(".")[:2] != _version().split(".")[:2]:
        raise RunError(f"{d} was written by chainrule {ver} (run format "
                       f"{config.get('format_version')}); this is chainrule {_version()} "
                       f"(run format {RUN_FORMAT_VERSION}): retrain it with this version")
    _check_fields(config, path)
    return config


def _is_int(v, lo: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo


def _check_fields(config: dict, path) -> None:
    def bad(what):
        raise RunError(f"{path} is incomplete or corrupt: {what}")

    arch = config.get("architecture")
    if not isinstance(arch, dict):
        bad("no 'architecture' object")
    if arch.get("type") not in (None, "mlp"):
        bad(f"architecture type {arch.get('type')!r} is not 'mlp'")
    if not _is_int(arch.get("n_inputs"), 1) or not _is_int(arch.get("n_outputs"), 1):
        bad("architecture n_inputs/n_outputs must be positive integers")
    hidden = arch.get("hidden")
    if not isinstance(hidden, list) or len(hidden) > 64 or not all(_is_int(h, 1)
                                                                    for h in hidden):
        bad(f"architecture hidden must be a list of positive integers, got {hidden!r:.80}")
    if arch.get("activation") not in ACTIVATIONS:
        bad(f"unknown activation {arch.get('activation')!r:.40}")
    dropout = arch.get("dropout")
    if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or \
            not 0 <= dropout < 1:
        bad(f"dropout must be a number in [0, 1), got {dropout!r:.40}")
    if config.get("task") not in TASKS:
        bad(f"task must be one of {TASKS}, got {config.get('task')!r:.40}")
    classes = config.get("classes")
    if config["task"] in ("binary", "multiclass"):
        if not isinstance(classes, list) or len(classes) < 2 or \
                not all(isinstance(c, (str, int, float)) for c in classes):
            bad("a classification run needs a list of at least 2 class labels")
        if len({repr(c) for c in classes}) != len(classes):
            bad("its class labels are not distinct")
        units = 1 if config["task"] == "binary" else len(classes)
    else:
        units = 1
    if arch["n_outputs"] != units:
        bad(f"{arch['n_outputs']} output units for task {config['task']} "
            f"({units} expected)")
    if not isinstance(config.get("preprocessing"), dict):
        bad("no 'preprocessing' object")
    if not isinstance(config.get("target"), str):
        bad("no target column name")


# -- loading --------------------------------------------------------------------------------
@dataclass
class LoadedRun:
    """A run directory read back: the model (eval mode), its config, preprocessor and head."""

    model: nn.Module
    config: dict
    preprocessor: object
    head: Head
    directory: Path


def _state_dict(path: Path) -> dict:
    data = read_regular_file(path, MAX_MODEL_BYTES, "model weights")
    if len(data) < 8:
        raise RunError(f"{path} is truncated ({len(data)} bytes)")
    try:
        state = load(_Named(data, str(path)))
    except Exception as e:  # noqa: BLE001 - any failure of a hostile file is a RunError
        msg = " ".join(str(e).split())
        raise RunError(f"{path} cannot be loaded: {msg or type(e).__name__}") from None
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and hasattr(v, "shape") for k, v in state.items()):
        raise RunError(f"{path} does not hold a model state_dict")
    return state


class _Named(io.BytesIO):
    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name


def load_run(directory) -> LoadedRun:
    """Rebuild the model and preprocessor of a run directory written by ``chainrule train``.

    Raises :class:`RunError` for anything wrong with the directory (see the module
    docstring), before the model is built.

    Example::

        run = load_run("runs/Heart")
        run.model(run.preprocessor.transform(rows))
    """
    from ..data import Preprocessor

    d = Path(directory)
    config = read_config(d)
    arch = config["architecture"]
    weights = d / "model.safetensors"
    if not os.path.lexists(weights):
        raise RunError(f"{d} has no model.safetensors")
    state = _state_dict(weights)
    expected = mlp_shapes(arch["n_inputs"], arch["hidden"], arch["dropout"], arch["n_outputs"])
    found = {k: tuple(int(s) for s in v.shape) for k, v in state.items()}
    if found != {k: tuple(v) for k, v in expected.items()}:
        diff = sorted(set(found) ^ set(expected)) or \
            [k for k in expected if found.get(k) != tuple(expected[k])]
        k = diff[0]
        raise RunError(f"{d}: config.json describes an MLP {arch['n_inputs']} -> "
                       f"{arch['hidden']} -> {arch['n_outputs']} but model.safetensors holds "
                       f"other tensors ({k}: stored {found.get(k, 'absent')}, config "
                       f"{tuple(expected[k]) if k in expected else 'absent'}); the directory "
                       "is corrupt")
    try:
        pre = Preprocessor.from_dict(config["preprocessing"])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise RunError(f"{d / 'config.json'} has corrupt preprocessing "
                       f"({type(e).__name__}: {e})") from None
    for key in ("task", "target", "classes"):  # config.json says it twice: both must agree
        mine = getattr(pre, key, None)
        if mine is not None and mine != config[key]:
            raise RunError(f"{d / 'config.json'}: its {key} ({config[key]!r:.60}) differs from "
                           f"the one its preprocessing was fitted for ({mine!r:.60}); the "
                           "directory is corrupt")
    n_features = len(pre.feature_names) if getattr(pre, "fitted", True) else None
    if n_features is not None and n_features != arch["n_inputs"]:
        raise RunError(f"{d / 'config.json'}: the preprocessing makes {n_features} inputs but "
                       f"the architecture takes {arch['n_inputs']}; the directory is corrupt")
    classes = config["classes"]
    head = Head(config["task"], len(classes) if config["task"] == "multiclass" else None)
    model = build_mlp(arch["n_inputs"], arch["hidden"], arch["activation"], arch["dropout"],
                      head)
    try:
        model.load_state_dict(state)
    except (ValueError, KeyError, RuntimeError, TypeError) as e:
        raise RunError(f"{weights} cannot be loaded: {e}") from None
    model.eval()
    return LoadedRun(model, config, pre, head, d)
