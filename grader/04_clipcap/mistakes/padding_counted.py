# cell: clipcap
# why: counts the padding positions in the loss (mean over all B x T tokens)
# feedback: average the cross-entropy over the tokens with mask == 1 only
class ClipCap(nn.Module):
    def __init__(self, mapper, lm):
        super().__init__()
        self.mapper = mapper
        self.lm = lm
        self.lm.requires_grad_(False)
        self.lm.eval()

    def forward(self, clip_embed, tokens, mask):
        prefix = self.mapper(clip_embed)
        P, T = prefix.shape[1], tokens.shape[1]
        logits = self.lm.forward_embeds(torch.cat([prefix, self.lm.embed(tokens)], dim=1))
        pred = logits[:, P - 1:P + T - 1]
        return logits, F.cross_entropy(pred.reshape(-1, pred.shape[-1]), tokens.reshape(-1))
