# cell: clipcap
# why: never freezes the language model, so a training step changes the GPT too
# feedback: call lm.requires_grad_(False) in __init__: only the mapper may learn
class ClipCap(nn.Module):
    def __init__(self, mapper, lm):
        super().__init__()
        self.mapper = mapper
        self.lm = lm

    def forward(self, clip_embed, tokens, mask):
        prefix = self.mapper(clip_embed)
        P, T = prefix.shape[1], tokens.shape[1]
        logits = self.lm.forward_embeds(torch.cat([prefix, self.lm.embed(tokens)], dim=1))
        pred = logits[:, P - 1:P + T - 1]
        nll = F.cross_entropy(pred.reshape(-1, pred.shape[-1]), tokens.reshape(-1), reduction="none").view_as(tokens)
        return logits, (nll * mask).sum() / mask.sum()
