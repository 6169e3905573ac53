# cell: lora_linear
# why: merge() and unmerge() replace the base weight by a new nn.Parameter, which requires gradients: after merging the base trains
# feedback: after merge() the base layer's weight requires gradients
import math


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        self.base_layer = base
        for param in base.parameters():
            param.requires_grad_(False)
        self.scaling = alpha / r
        kwargs = {"dtype": base.weight.dtype, "device": base.weight.device}
        self.lora_A = nn.Linear(base.in_features, r, bias=False, **kwargs)
        self.lora_B = nn.Linear(r, base.out_features, bias=False, **kwargs)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.dropout = nn.Dropout(dropout)
        self.merged = False

    def forward(self, x):
        out = self.base_layer(x)
        if self.merged:
            return out
        return out + self.lora_B(self.lora_A(self.dropout(x))) * self.scaling

    def merge(self):
        if not self.merged:
            delta = (self.scaling * self.lora_B.weight @ self.lora_A.weight).detach()
            self.base_layer.weight = nn.Parameter(self.base_layer.weight + delta)
            self.merged = True

    def unmerge(self):
        if self.merged:
            delta = (self.scaling * self.lora_B.weight @ self.lora_A.weight).detach()
            self.base_layer.weight = nn.Parameter(self.base_layer.weight - delta)
            self.merged = False
