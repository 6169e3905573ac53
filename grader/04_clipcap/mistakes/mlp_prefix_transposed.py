# cell: mlp_mapper
# why: reshapes fc2's output to (B, lm_dim, prefix_length) and transposes, interleaving the prefix vectors
# feedback: the first lm_dim outputs of fc2 are prefix vector 0: view as (B, prefix_length, lm_dim) directly
class MLPMapper(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.fc1 = nn.Linear(config.clip_dim, config.mlp_hidden)
        self.fc2 = nn.Linear(config.mlp_hidden, config.prefix_length * config.lm_dim)

    def forward(self, clip_embed):
        h = torch.tanh(self.fc1(clip_embed))
        return self.fc2(h).view(clip_embed.shape[0], self.config.lm_dim, self.config.prefix_length).transpose(1, 2)
