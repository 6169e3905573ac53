# cell: causal_self_attention
# why: the same module copied from a classmate: variables renamed, the helper renamed and moved below forward, the mask built first, comments added
# expect: full
class CausalSelfAttention(nn.Module):
    # multi-head causal self-attention
    def __init__(self, config):
        super().__init__()
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        # one layer for q, k and v together
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)

    def forward(self, x):
        b, t, _ = x.shape
        m = causal_mask(t).to(x.device)
        q, k, v = torch.split(self.c_attn(x), self.n_embd, dim=-1)
        q = self.to_heads(q, b, t)
        k = self.to_heads(k, b, t)
        v = self.to_heads(v, b, t)
        y = masked_attention(q, k, v, m)
        # back to (B, T, C)
        y = y.permute(0, 2, 1, 3).reshape(b, t, self.n_embd)
        return self.c_proj(y)

    def to_heads(self, tensor, b, t):
        return tensor.reshape(b, t, self.n_head, self.n_embd // self.n_head).permute(0, 2, 1, 3)
