# cell: transformer_mapper
# why: feeds only the CLIP tokens through the blocks (the learnt constants are never used)
# feedback: append the learnt constants after the CLIP tokens and return their outputs
class TransformerMapper(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.clip_dim, config.clip_length * config.lm_dim)
        self.prefix_const = nn.Parameter(torch.randn(config.prefix_length, config.lm_dim))
        self.blocks = nn.ModuleList(Block(BlockConfig(n_embd=config.lm_dim, n_head=config.num_heads), SelfAttention)
                                    for _ in range(config.num_layers))

    def forward(self, clip_embed):
        c = self.config
        x = self.linear(clip_embed).view(-1, c.clip_length, c.lm_dim)
        for block in self.blocks:
            x = block(x)
        return x[:, -c.prefix_length:] if c.prefix_length <= c.clip_length else x.repeat(1, c.prefix_length, 1)[:, :c.prefix_length]
