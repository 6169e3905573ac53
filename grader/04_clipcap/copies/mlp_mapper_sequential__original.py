# cell: mlp_mapper
# why: a student's own MLP mapper: the reshape written with unflatten (copy-detection corpus)
# expect: full
class MLPMapper(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.P = config.prefix_length
        self.C = config.lm_dim
        self.fc1 = nn.Linear(config.clip_dim, config.mlp_hidden)
        self.fc2 = nn.Linear(config.mlp_hidden, self.P * self.C)

    def forward(self, clip_embed):
        hidden = self.fc1(clip_embed).tanh()
        flat = self.fc2(hidden)
        return flat.unflatten(-1, (self.P, self.C))
