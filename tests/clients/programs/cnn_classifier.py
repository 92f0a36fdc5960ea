# A small convolutional classifier (conv, batch norm, max pooling, dropout off) trained for
# a few SGD steps with momentum and a step learning-rate schedule.
import json
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _weights import set_weights  # noqa: E402


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.fc = nn.Linear(8 * 2 * 2, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv1(x))), 2)
        x = F.relu(self.conv2(x))
        x = F.avg_pool2d(x, 2)
        return self.fc(torch.flatten(x, 1))


rng = np.random.default_rng(5)
x = torch.from_numpy(rng.standard_normal((16, 1, 14, 14)).astype(np.float32))
y = torch.from_numpy((np.arange(16) % 3).astype(np.int64))
net = Net()
set_weights(torch, net, 6)
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
losses = []
for _step in range(10):
    opt.zero_grad()
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    sched.step()
    losses.append(loss.item())
net.eval()
print(json.dumps({"losses": losses, "eval": net(x[:2]).tolist(),
                  "running_mean": net.bn.running_mean.tolist()}))
