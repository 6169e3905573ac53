# cell: causal_self_attention
# why: q, k and v taken from one (B, T, 3, nh, hs) view with permute and unbind; heads merged with flatten; the mask built on x's device
# expect: full
class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0, "n_embd must split evenly into heads"
        self.n_head = config.n_head
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)

    def forward(self, x):
        batch, steps, width = x.size()
        qkv = self.c_attn(x).view(batch, steps, 3, self.n_head, width // self.n_head)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, nh, T, hs)
        out = masked_attention(q, k, v, causal_mask(steps).to(x.device))
        return self.c_proj(out.transpose(1, 2).flatten(2))  # (B, T, C)
