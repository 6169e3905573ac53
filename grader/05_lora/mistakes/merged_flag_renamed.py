# cell: lora_linear
# why: keeps the merged state in self._merged instead of self.merged (the contract's attribute)
# feedback: the layer has no self.merged flag (False, True after merge())
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
        self._merged = False

    def forward(self, x):
        out = self.base_layer(x)
        if self._merged:
            return out
        return out + self.lora_B(self.lora_A(self.dropout(x))) * self.scaling

    def merge(self):
        if not self._merged:
            with torch.no_grad():
                self.base_layer.weight += self.scaling * self.lora_B.weight @ self.lora_A.weight
            self._merged = True

    def unmerge(self):
        if self._merged:
            with torch.no_grad():
                self.base_layer.weight -= self.scaling * self.lora_B.weight @ self.lora_A.weight
            self._merged = False
