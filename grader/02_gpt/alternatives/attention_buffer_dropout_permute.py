# cell: causal_self_attention
# why: a non-persistent mask buffer sliced to T, residual nn.Dropout(config.dropout), chunk and permute instead of split and transpose
# expect: full
class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_head = config.n_head
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.register_buffer("mask", causal_mask(config.block_size), persistent=False)

    def forward(self, x):
        B, T, C = x.shape
        nh = self.n_head
        q, k, v = self.c_attn(x).chunk(3, dim=-1)  # each (B, T, C)
        q, k, v = (t.reshape(B, T, nh, C // nh).permute(0, 2, 1, 3) for t in (q, k, v))  # (B, nh, T, hs)
        y = masked_attention(q, k, v, self.mask[:T, :T])  # (B, nh, T, hs)
        y = y.permute(0, 2, 1, 3).contiguous().view(B, T, C)  # (B, T, C)
        return self.resid_dropout(self.c_proj(y))
