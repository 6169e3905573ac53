# cell: transformer_mapper
# why: puts the constants in front and reads the first prefix_length outputs: the blocks have no position embeddings, so attention treats the sequence as a set and the result is the same
# expect: full
class TransformerMapper(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.clip_dim, config.clip_length * config.lm_dim)
        self.prefix_const = nn.Parameter(torch.randn(config.prefix_length, config.lm_dim))
        self.blocks = nn.ModuleList([Block(BlockConfig(n_embd=config.lm_dim, n_head=config.num_heads), SelfAttention)
                                     for _ in range(config.num_layers)])

    def forward(self, clip_embed):
        n = clip_embed.shape[0]
        clip_tokens = self.linear(clip_embed).reshape(n, self.config.clip_length, self.config.lm_dim)
        seq = torch.cat([self.prefix_const.repeat(n, 1, 1), clip_tokens], dim=1)
        for block in self.blocks:
            seq = block(seq)
        return seq[:, :self.config.prefix_length]
