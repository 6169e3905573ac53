# cell: transformer_mapper
# why: a student's own transformer mapper: the sequence filled into a preallocated tensor, the blocks applied in a while loop (copy-detection corpus)
# expect: full
class TransformerMapper(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.k, self.p, self.d = config.clip_length, config.prefix_length, config.lm_dim
        self.linear = nn.Linear(config.clip_dim, self.k * self.d)
        self.prefix_const = nn.Parameter(torch.randn(self.p, self.d))
        self.blocks = nn.ModuleList()
        while len(self.blocks) < config.num_layers:
            self.blocks.append(Block(BlockConfig(n_embd=self.d, n_head=config.num_heads), SelfAttention))

    def forward(self, clip_embed):
        batch = clip_embed.size(0)
        total = self.k + self.p
        seq = clip_embed.new_zeros(batch, total, self.d)
        seq = seq + torch.nn.functional.pad(self.linear(clip_embed).reshape(batch, self.k, self.d), (0, 0, 0, self.p))
        seq = seq + torch.nn.functional.pad(self.prefix_const.unsqueeze(0).repeat(batch, 1, 1), (0, 0, self.k, 0))
        index = 0
        while index < len(self.blocks):
            seq = self.blocks[index](seq)
            index += 1
        keep = torch.arange(self.k, total)
        return seq.index_select(1, keep)
