# cell: clipcap
# why: freezes the language model inside forward instead of __init__, so right after construction its parameters still require gradients (an optimiser built then holds them)
# feedback: freeze the language model in __init__ (lm.requires_grad_(False), lm.eval())
class ClipCap(nn.Module):
    def __init__(self, mapper, lm):
        super().__init__()
        self.mapper = mapper
        self.lm = lm.eval()

    def forward(self, clip_embed, tokens, mask):
        self.lm.requires_grad_(False)
        prefix = self.mapper(clip_embed)  # (B, P, C)
        P, T = prefix.shape[1], tokens.shape[1]
        logits = self.lm.forward_embeds(torch.cat([prefix, self.lm.embed(tokens)], dim=1))  # (B, P + T, V)
        pred = logits[:, P - 1:P + T - 1]  # (B, T, V)
        nll = F.cross_entropy(pred.reshape(-1, pred.shape[-1]), tokens.reshape(-1), reduction="none").view_as(tokens)
        weights = mask.to(nll.dtype)
        return logits, (nll * weights).sum() / weights.sum()
