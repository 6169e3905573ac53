# cell: lora_linear
# why: the same layer with explicit matrix products, F.dropout(training=self.training) and merge through .data
# expect: full
import math

import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        base.weight.requires_grad = False
        if base.bias is not None:
            base.bias.requires_grad = False
        self.base_layer = base
        self.p = dropout
        self.scaling = alpha / r
        self.lora_A = nn.Linear(base.in_features, r, bias=False).to(base.weight)
        self.lora_B = nn.Linear(r, base.out_features, bias=False).to(base.weight)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.merged = False

    def delta(self):
        return (self.lora_B.weight @ self.lora_A.weight) * self.scaling

    def forward(self, x):
        y = F.linear(x, self.base_layer.weight, self.base_layer.bias)
        if not self.merged:
            h = F.dropout(x, self.p, training=self.training)
            y = y + (h @ self.lora_A.weight.T @ self.lora_B.weight.T) * self.scaling
        return y

    def merge(self):
        if self.merged:
            return
        self.base_layer.weight.data.add_(self.delta().detach())
        self.merged = True

    def unmerge(self):
        if not self.merged:
            return
        self.base_layer.weight.data.sub_(self.delta().detach())
        self.merged = False
