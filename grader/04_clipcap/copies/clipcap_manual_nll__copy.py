# cell: clipcap
# why: the same forward copied from a classmate: variables renamed, comments added, two independent lines swapped
# expect: full
class ClipCap(nn.Module):
    def __init__(self, mapper, lm):
        super().__init__()
        self.lm = lm
        self.mapper = mapper
        # freeze the language model
        for p in self.lm.parameters():
            p.requires_grad_(False)
        self.lm.train(False)

    def forward(self, clip_embed, tokens, mask):
        prefix = self.mapper(clip_embed)
        n_prefix = prefix.size(1)
        tok_emb = self.lm.embed(tokens)
        seq = torch.cat((prefix, tok_emb), dim=1)
        out = self.lm.forward_embeds(seq)
        # position n_prefix - 1 predicts the first word
        sl = out[:, n_prefix - 1:n_prefix - 1 + tokens.size(1), :]
        lp = torch.log_softmax(sl, dim=-1)
        chosen = torch.gather(lp, 2, tokens.unsqueeze(-1)).squeeze(-1)
        real = mask.bool()
        total = -(chosen[real]).mean()
        return out, total
