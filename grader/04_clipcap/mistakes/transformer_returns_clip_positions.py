# cell: transformer_mapper
# why: returns the outputs at the CLIP tokens' positions instead of the learnt constants'
# feedback: the prefix is read at the constants' positions, the last prefix_length of the sequence
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
        x = torch.cat([x, self.prefix_const.expand(x.shape[0], -1, -1)], dim=1)
        for block in self.blocks:
            x = block(x)
        return x[:, :c.prefix_length]
