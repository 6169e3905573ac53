# cell: unshuffle
# why: gathers over the whole sequence, class token included, so everything is shifted by one and the class token lands among the patches
# feedback: take the class token off before appending mask tokens and gathering, and put it back in front afterwards
def unshuffle(x, mask_token, ids_restore):
    B, K1, D = x.shape
    L = ids_restore.shape[1]
    mask_tokens = mask_token.expand(B, L + 1 - K1, D)
    shuffled = torch.cat([x, mask_tokens], dim=1)
    restored = torch.gather(shuffled, 1, ids_restore.unsqueeze(-1).expand(-1, -1, D))
    return torch.cat([x[:, :1], restored], dim=1)
