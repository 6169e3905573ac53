# cell: lora_linear
# why: the layer above copied: names changed, methods reordered, a comment added
# expect: full
import math


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        # freeze the pretrained layer
        for _, w in base.named_parameters():
            w.requires_grad = False
        self.base_layer = base
        self.scaling = alpha / r
        self.lora_A = nn.Linear(base.in_features, r, bias=False, dtype=base.weight.dtype)
        self.lora_B = nn.Linear(r, base.out_features, bias=False, dtype=base.weight.dtype)
        g = math.sqrt(5)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=g)
        self.lora_B.weight.data.zero_()
        self.drop = nn.Dropout(p=dropout)
        self.merged = False

    def merge(self):
        if not self.merged:
            self._apply_update(+1.0)
            self.merged = True

    def unmerge(self):
        if self.merged:
            self._apply_update(-1.0)
            self.merged = False

    def update(self):
        return self.scaling * torch.matmul(self.lora_B.weight, self.lora_A.weight)

    def forward(self, inp):
        out = self.base_layer(inp)
        if not self.merged:
            low = self.lora_A(self.drop(inp))
            out = out + self.scaling * self.lora_B(low)
        return out

    def _apply_update(self, s):
        with torch.no_grad():
            self.base_layer.weight.add_(s * self.update())
