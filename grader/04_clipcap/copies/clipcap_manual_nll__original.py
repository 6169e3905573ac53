# cell: clipcap
# why: a student's own forward: the target log-probabilities gathered by hand, the mask applied as a boolean selection (copy-detection corpus)
# expect: full
class ClipCap(nn.Module):
    def __init__(self, mapper, lm):
        super().__init__()
        self.mapper = mapper
        self.lm = lm
        for weight in self.lm.parameters():
            weight.requires_grad_(False)
        self.lm.train(False)

    def forward(self, clip_embed, tokens, mask):
        pre = self.mapper(clip_embed)
        plen = pre.size(1)
        words = self.lm.embed(tokens)
        everything = torch.cat((pre, words), dim=1)
        logits = self.lm.forward_embeds(everything)
        shifted = logits[:, plen - 1:plen - 1 + tokens.size(1), :]
        logp = torch.log_softmax(shifted, dim=-1)
        picked = torch.gather(logp, 2, tokens.unsqueeze(-1)).squeeze(-1)
        keep = mask.bool()
        loss = -(picked[keep]).mean()
        return logits, loss
