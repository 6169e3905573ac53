# cell: lora_linear
# why: a student's own layer: A and B as bare nn.Parameters, their initialisation written out, dropout through F.dropout (copy-detection corpus)
# expect: full
import math

import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        self.base_layer = base
        self.base_layer.weight.requires_grad_(False)
        if self.base_layer.bias is not None:
            self.base_layer.bias.requires_grad_(False)
        dtype = base.weight.dtype
        self.lora_A = nn.Linear(base.in_features, r, bias=False, dtype=dtype)
        self.lora_B = nn.Linear(r, base.out_features, bias=False, dtype=dtype)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        with torch.no_grad():
            self.lora_B.weight.fill_(0.0)
        self.rate = dropout
        self.scaling = alpha / r
        self.merged = False

    def forward(self, x):
        frozen = self.base_layer(x)
        if self.merged:
            return frozen
        dropped = F.dropout(x, p=self.rate, training=self.training)
        down = dropped @ self.lora_A.weight.t()
        up = down @ self.lora_B.weight.t()
        return frozen + up * self.scaling

    def merge(self):
        if self.merged:
            return
        with torch.no_grad():
            delta = self.lora_B.weight @ self.lora_A.weight
            self.base_layer.weight += delta * self.scaling
        self.merged = True

    def unmerge(self):
        if not self.merged:
            return
        with torch.no_grad():
            delta = self.lora_B.weight @ self.lora_A.weight
            self.base_layer.weight -= delta * self.scaling
        self.merged = False
