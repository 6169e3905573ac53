# cell: clipcap
# why: marks padding with ignore_index=-100 and lets cross_entropy average over the rest; freezes the LM parameter by parameter
# expect: full
class ClipCap(nn.Module):
    def __init__(self, mapper, lm):
        super().__init__()
        self.mapper = mapper
        self.lm = lm
        for p in lm.parameters():
            p.requires_grad = False
        lm.eval()

    def forward(self, clip_embed, tokens, mask):
        prefix = self.mapper(clip_embed)
        P = prefix.shape[1]
        seq = torch.cat((prefix, self.lm.embed(tokens)), dim=1)
        logits = self.lm.forward_embeds(seq)
        targets = tokens.masked_fill(mask == 0, -100)
        loss = F.cross_entropy(logits[:, P - 1:-1].transpose(1, 2), targets, ignore_index=-100)
        return logits, loss
