# cell: lora_linear
# why: the layer above copied: names changed, the order of the constructor's lines changed, comments added
# expect: full
import math

import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        self.scaling = alpha / r
        self.rate = dropout
        self.merged = False
        self.base_layer = base
        # freeze W and b
        self.base_layer.weight.requires_grad_(False)
        if self.base_layer.bias is not None:
            self.base_layer.bias.requires_grad_(False)
        dt = base.weight.dtype
        self.lora_A = nn.Linear(base.in_features, r, bias=False, dtype=dt)
        self.lora_B = nn.Linear(r, base.out_features, bias=False, dtype=dt)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        with torch.no_grad():
            self.lora_B.weight.fill_(0.0)

    def forward(self, inputs):
        y = self.base_layer(inputs)
        if self.merged:
            return y
        # low-rank path
        h = F.dropout(inputs, p=self.rate, training=self.training)
        h = h @ self.lora_A.weight.t()
        h = h @ self.lora_B.weight.t()
        return y + h * self.scaling

    def merge(self):
        if self.merged:
            return
        with torch.no_grad():
            d = self.lora_B.weight @ self.lora_A.weight
            self.base_layer.weight += d * self.scaling
        self.merged = True

    def unmerge(self):
        if not self.merged:
            return
        with torch.no_grad():
            d = self.lora_B.weight @ self.lora_A.weight
            self.base_layer.weight -= d * self.scaling
        self.merged = False
