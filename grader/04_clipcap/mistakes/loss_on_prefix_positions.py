# cell: clipcap
# why: the loss slice starts at position 0, so prefix positions are scored and each token is predicted from the wrong place
# feedback: the logits at positions P - 1 ... P + T - 2 predict the caption tokens; prefix positions are never targets
class ClipCap(nn.Module):
    def __init__(self, mapper, lm):
        super().__init__()
        self.mapper = mapper
        self.lm = lm
        self.lm.requires_grad_(False)
        self.lm.eval()

    def forward(self, clip_embed, tokens, mask):
        prefix = self.mapper(clip_embed)
        T = tokens.shape[1]
        logits = self.lm.forward_embeds(torch.cat([prefix, self.lm.embed(tokens)], dim=1))
        pred = logits[:, :T]
        nll = F.cross_entropy(pred.reshape(-1, pred.shape[-1]), tokens.reshape(-1), reduction="none").view_as(tokens)
        return logits, (nll * mask).sum() / mask.sum()
