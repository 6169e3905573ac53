# cell: transformer_mapper
# why: the same mapper copied from a classmate: local names changed, a comment added
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
        b = clip_embed.size(0)
        n = self.k + self.p
        # zero-padded pieces summed into one sequence
        h = clip_embed.new_zeros(b, n, self.d)
        h = h + torch.nn.functional.pad(self.linear(clip_embed).reshape(b, self.k, self.d), (0, 0, 0, self.p))
        h = h + torch.nn.functional.pad(self.prefix_const.unsqueeze(0).repeat(b, 1, 1), (0, 0, self.k, 0))
        j = 0
        while j < len(self.blocks):
            h = self.blocks[j](h)
            j += 1
        sel = torch.arange(self.k, n)
        return h.index_select(1, sel)
