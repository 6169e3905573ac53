# cell: lora_linear
# why: lora_A drawn with nn.init.uniform_ in ±1/sqrt(in_features) (the same distribution as kaiming_uniform_ with a=sqrt(5)), einsum for the adapter, nn.Identity when dropout is 0, merge/unmerge decorated with torch.no_grad()
# expect: full
import math


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        base.requires_grad_(False)
        self.base_layer = base
        self.scaling = alpha / r
        self.merged = False
        factory = {"dtype": base.weight.dtype, "device": base.weight.device}
        self.lora_A = nn.Linear(base.in_features, r, bias=False, **factory)
        self.lora_B = nn.Linear(r, base.out_features, bias=False, **factory)
        bound = 1 / math.sqrt(base.in_features)
        nn.init.uniform_(self.lora_A.weight, -bound, bound)
        nn.init.zeros_(self.lora_B.weight)
        self.dropout = nn.Dropout(p=dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        y = self.base_layer(x)
        if self.merged:
            return y
        h = torch.einsum("...i,ri->...r", self.dropout(x), self.lora_A.weight)  # (..., r)
        return y + self.scaling * torch.einsum("...r,or->...o", h, self.lora_B.weight)

    @torch.no_grad()
    def merge(self):
        if self.merged:
            return
        self.base_layer.weight.add_(self.lora_B.weight @ self.lora_A.weight, alpha=self.scaling)
        self.merged = True

    @torch.no_grad()
    def unmerge(self):
        if not self.merged:
            return
        self.base_layer.weight.sub_(self.lora_B.weight @ self.lora_A.weight, alpha=self.scaling)
        self.merged = False
