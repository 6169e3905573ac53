# cell: transformer_mapper
# why: draws the learnt constants from a uniform distribution on [0, 1) (torch.rand) instead of a standard normal (torch.randn)
# feedback: prefix_const = nn.Parameter(torch.randn(config.prefix_length, config.lm_dim)): a standard normal draw
class TransformerMapper(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.clip_dim, config.clip_length * config.lm_dim)
        self.prefix_const = nn.Parameter(torch.rand(config.prefix_length, config.lm_dim))
        block = BlockConfig(n_embd=config.lm_dim, n_head=config.num_heads)
        self.blocks = nn.ModuleList(Block(block, SelfAttention) for _ in range(config.num_layers))

    def forward(self, clip_embed):
        B, c = clip_embed.shape[0], self.config
        x = self.linear(clip_embed).view(B, c.clip_length, c.lm_dim)  # (B, K, C)
        const = self.prefix_const.unsqueeze(0).expand(B, -1, -1)  # (B, P, C)
        x = torch.cat([x, const], dim=1)  # (B, K + P, C)
        for block in self.blocks:
            x = block(x)
        return x[:, c.clip_length:]  # (B, P, C)
