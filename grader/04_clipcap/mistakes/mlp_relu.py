# cell: mlp_mapper
# why: ReLU between the two layers instead of ClipCap's tanh
# feedback: the activation between fc1 and fc2 is tanh
class MLPMapper(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.fc1 = nn.Linear(config.clip_dim, config.mlp_hidden)
        self.fc2 = nn.Linear(config.mlp_hidden, config.prefix_length * config.lm_dim)

    def forward(self, clip_embed):
        h = torch.relu(self.fc1(clip_embed))
        return self.fc2(h).view(clip_embed.shape[0], self.config.prefix_length, self.config.lm_dim)
