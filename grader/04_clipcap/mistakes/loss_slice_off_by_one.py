# cell: clipcap
# why: the logits at position P + t score token t, which that position already reads (off by one)
# feedback: position P - 1 + t predicts token t: the last prefix position predicts the first word
class ClipCap(nn.Module):
    def __init__(self, mapper, lm):
        super().__init__()
        self.mapper = mapper
        self.lm = lm
        self.lm.requires_grad_(False)
        self.lm.eval()

    def forward(self, clip_embed, tokens, mask):
        prefix = self.mapper(clip_embed)
        P = prefix.shape[1]
        logits = self.lm.forward_embeds(torch.cat([prefix, self.lm.embed(tokens)], dim=1))
        pred = logits[:, P:]
        nll = F.cross_entropy(pred.reshape(-1, pred.shape[-1]), tokens.reshape(-1), reduction="none").view_as(tokens)
        return logits, (nll * mask).sum() / mask.sum()
