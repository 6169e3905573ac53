# cell: unshuffle
# why: puts the mask tokens before the visible patches, but in the shuffled order the kept patches come first
# feedback: in the shuffled order the K kept tokens come first: append the mask tokens after them, then gather
def unshuffle(x, mask_token, ids_restore):
    B, K1, D = x.shape
    L = ids_restore.shape[1]
    mask_tokens = mask_token.expand(B, L + 1 - K1, D)
    shuffled = torch.cat([mask_tokens, x[:, 1:]], dim=1)
    restored = torch.gather(shuffled, 1, ids_restore.unsqueeze(-1).expand(-1, -1, D))
    return torch.cat([x[:, :1], restored], dim=1)
