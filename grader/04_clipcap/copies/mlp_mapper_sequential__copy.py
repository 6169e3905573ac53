# cell: mlp_mapper
# why: the same mapper copied from a classmate: attribute and variable names changed, a comment added
# expect: full
class MLPMapper(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.plen = config.prefix_length
        self.width = config.lm_dim
        self.fc1 = nn.Linear(config.clip_dim, config.mlp_hidden)
        self.fc2 = nn.Linear(config.mlp_hidden, self.plen * self.width)

    def forward(self, clip_embed):
        # two layers with tanh
        h = self.fc1(clip_embed).tanh()
        out = self.fc2(h)
        return out.unflatten(-1, (self.plen, self.width))
