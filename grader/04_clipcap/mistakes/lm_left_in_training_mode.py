# cell: clipcap
# why: freezes the language model's parameters but never puts it in eval mode, so its dropout stays on
# feedback: call lm.eval() in __init__ as well: a frozen language model runs in eval mode
class ClipCap(nn.Module):
    def __init__(self, mapper, lm):
        super().__init__()
        self.mapper = mapper
        self.lm = lm
        self.lm.requires_grad_(False)

    def forward(self, clip_embed, tokens, mask):
        prefix = self.mapper(clip_embed)  # (B, P, C)
        P, T = prefix.shape[1], tokens.shape[1]
        logits = self.lm.forward_embeds(torch.cat([prefix, self.lm.embed(tokens)], dim=1))  # (B, P + T, V)
        pred = logits[:, P - 1:P + T - 1]  # (B, T, V)
        nll = F.cross_entropy(pred.reshape(-1, pred.shape[-1]), tokens.reshape(-1), reduction="none").view_as(tokens)
        weights = mask.to(nll.dtype)
        return logits, (nll * weights).sum() / weights.sum()
