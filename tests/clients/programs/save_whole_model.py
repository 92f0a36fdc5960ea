# Saving and loading: a state_dict round trip into a fresh model, and a whole model saved
# with torch.save(model) and loaded with weights_only=False, as older scripts do.
import json
import os
import sys
import tempfile

import torch
import torch.nn as nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _weights import data, set_weights  # noqa: E402

model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Dropout(0.2), nn.Linear(6, 3))
set_weights(torch, model, 4)
model.eval()
x = torch.from_numpy(data(4, 5)[0])
ref = model(x)
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "weights.pt")
    torch.save(model.state_dict(), path)
    fresh = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Dropout(0.2), nn.Linear(6, 3))
    fresh.load_state_dict(torch.load(path))
    fresh.eval()
    whole = os.path.join(d, "model.pt")
    torch.save(model, whole)
    again = torch.load(whole, weights_only=False)
print(json.dumps({"ref": ref.tolist(), "state_dict": fresh(x).tolist(),
                  "whole": again(x).tolist(), "training": again.training}))
