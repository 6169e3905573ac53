# cell: lora_linear
# why: forward through one effective weight W + (alpha / r) B A when there is no dropout
# expect: full
import math


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        self.base_layer = base.requires_grad_(False)
        self.scaling = alpha / r
        self.lora_A = nn.Linear(base.in_features, r, bias=False, dtype=base.weight.dtype, device=base.weight.device)
        self.lora_B = nn.Linear(r, base.out_features, bias=False, dtype=base.weight.dtype, device=base.weight.device)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.drop = nn.Dropout(dropout) if dropout > 0 else None
        self.merged = False

    def forward(self, x):
        if self.merged:
            return self.base_layer(x)
        if self.drop is None or not self.training:
            weight = self.base_layer.weight + self.scaling * self.lora_B.weight @ self.lora_A.weight
            return torch.nn.functional.linear(x, weight, self.base_layer.bias)
        return self.base_layer(x) + self.scaling * self.lora_B(self.lora_A(self.drop(x)))

    @torch.no_grad()
    def merge(self):
        if not self.merged:
            self.base_layer.weight.add_(self.scaling * self.lora_B.weight @ self.lora_A.weight)
            self.merged = True

    @torch.no_grad()
    def unmerge(self):
        if self.merged:
            self.base_layer.weight.sub_(self.scaling * self.lora_B.weight @ self.lora_A.weight)
            self.merged = False
