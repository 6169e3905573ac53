# cell: transformer_mapper
# why: runs each block on the input instead of on the previous block's output (only the last block counts)
# feedback: chain the blocks: x = block(x) for each block in order
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
            out = block(x)
        return out[:, c.clip_length:]
