# cell: transformer_mapper
# why: builds the blocks first and draws the constants with nn.init.normal_ on an empty tensor (another order of random draws, the same standard normal)
# expect: full
class TransformerMapper(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.blocks = nn.ModuleList([Block(BlockConfig(n_embd=config.lm_dim, n_head=config.num_heads), SelfAttention)
                                     for _ in range(config.num_layers)])
        self.prefix_const = nn.Parameter(nn.init.normal_(torch.empty(config.prefix_length, config.lm_dim)))
        self.linear = nn.Linear(config.clip_dim, config.clip_length * config.lm_dim)

    def forward(self, clip_embed):
        c = self.config
        tokens = self.linear(clip_embed).reshape(-1, c.clip_length, c.lm_dim)  # (B, K, C)
        const = self.prefix_const.expand(tokens.shape[0], c.prefix_length, c.lm_dim)  # (B, P, C)
        h = torch.cat((tokens, const), dim=1)  # (B, K + P, C)
        for block in self.blocks:
            h = block(h)
        return h[:, -c.prefix_length:]  # (B, P, C)
