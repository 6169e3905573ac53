# cell: lora_linear
# why: a student's own layer: freezing by a loop over named parameters, the update computed by a helper, merge and unmerge through one signed function (copy-detection corpus)
# expect: full
import math


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        for _, weight in base.named_parameters():
            weight.requires_grad = False
        self.base_layer = base
        self.scaling = alpha / r
        self.lora_A = nn.Linear(base.in_features, r, bias=False, dtype=base.weight.dtype)
        self.lora_B = nn.Linear(r, base.out_features, bias=False, dtype=base.weight.dtype)
        bound_gain = math.sqrt(5)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=bound_gain)
        self.lora_B.weight.data.zero_()
        self.drop = nn.Dropout(p=dropout)
        self.merged = False

    def update(self):
        return self.scaling * torch.matmul(self.lora_B.weight, self.lora_A.weight)

    def forward(self, x):
        result = self.base_layer(x)
        if not self.merged:
            low = self.lora_A(self.drop(x))
            result = result + self.scaling * self.lora_B(low)
        return result

    def _apply_update(self, sign):
        with torch.no_grad():
            self.base_layer.weight.add_(sign * self.update())

    def merge(self):
        if not self.merged:
            self._apply_update(+1.0)
            self.merged = True

    def unmerge(self):
        if self.merged:
            self._apply_update(-1.0)
            self.merged = False
