# cell: transformer_mapper
# why: returns the outputs at the CLIP tokens' positions instead of the learnt constants'
# feedback: the prefix is read at the constants' positions, the last prefix_length of the sequence
class TransformerMapper(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.cfg = config
        width, heads = config.lm_dim, config.num_heads
        self.linear = nn.Linear(config.clip_dim, width * config.clip_length)
        self.prefix_const = nn.Parameter(torch.randn(config.prefix_length, width))
        stack = [Block(BlockConfig(n_embd=width, n_head=heads), SelfAttention) for i in range(config.num_layers)]
        self.blocks = nn.ModuleList(stack)

    def forward(self, clip_embed):
        n = len(clip_embed)
        seq = torch.cat([self.linear(clip_embed).reshape(n, self.cfg.clip_length, -1),
                         self.prefix_const[None].repeat(n, 1, 1)], 1)
        for blk in self.blocks:
            seq = blk(seq)
        return seq[:, 0:self.cfg.prefix_length, :]
