"""Process-wide autograd switches, read on every primitive call (kept in one tiny object)."""


class _State:
    __slots__ = ("grad_enabled", "fw_level", "anomaly", "vmap_level", "tracer", "arrays")

    def __init__(self):
        self.grad_enabled = True  # record operations for reverse mode
        self.fw_level = 0  # > 0 inside forward_ad.dual_level()
        self.anomaly = False  # detect_anomaly() is on
        self.vmap_level = 0  # > 0 inside chainrule.vmap (Function.apply batches)
        self.tracer = None  # chainrule.compiler is recording (compiler/capture.py)
        # the engine runs a backward rule on NumPy arrays (autograd/engine.py): primitives'
        # apply returns forward's array, saved_tensors gives arrays -- in the thread whose
        # identifier this is (0: nowhere; another thread's calls are unaffected)
        self.arrays = 0


STATE = _State()
