# cell: clipcap
# why: puts the prefix after the caption's embeddings instead of before
# feedback: the prefix comes first, then the caption: cat([prefix, lm.embed(tokens)], dim=1)
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
        logits = self.lm.forward_embeds(torch.cat([self.lm.embed(tokens), prefix], dim=1))
        pred = torch.cat([logits[:, -1:], logits[:, :T - 1]], dim=1)
        nll = F.cross_entropy(pred.reshape(-1, pred.shape[-1]), tokens.reshape(-1), reduction="none").view_as(tokens)
        return logits, (nll * mask).sum() / mask.sum()
