# cell: causal_self_attention
# why: a student's own attention module: heads split with a helper method, the projections unpacked with torch.split, heads merged with permute and reshape (copy-detection corpus)
# expect: full
class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)

    def split_heads(self, t, batch, length):
        return t.reshape(batch, length, self.n_head, self.n_embd // self.n_head).permute(0, 2, 1, 3)

    def forward(self, x):
        batch, length, _ = x.shape
        queries, keys, values = torch.split(self.c_attn(x), self.n_embd, dim=-1)
        queries = self.split_heads(queries, batch, length)
        keys = self.split_heads(keys, batch, length)
        values = self.split_heads(values, batch, length)
        allowed = causal_mask(length).to(x.device)
        mixed = masked_attention(queries, keys, values, allowed)
        merged = mixed.permute(0, 2, 1, 3).reshape(batch, length, self.n_embd)
        return self.c_proj(merged)
