# cell: lora_linear
# why: builds nn.Dropout but forward never calls it: no dropout in training mode
# feedback: dropout is never applied in training mode
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
        return out + self.lora_B(self.lora_A(x)) * self.scaling

    def merge(self):
        if not self.merged:
            with torch.no_grad():
                self.base_layer.weight += self.scaling * self.lora_B.weight @ self.lora_A.weight
            self.merged = True

    def unmerge(self):
        if self.merged:
            with torch.no_grad():
                self.base_layer.weight -= self.scaling * self.lora_B.weight @ self.lora_A.weight
            self.merged = False
