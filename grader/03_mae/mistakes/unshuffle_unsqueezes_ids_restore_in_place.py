# cell: unshuffle
# why: unsqueeze_ on ids_restore changes the caller's tensor (its shape becomes (B, L, 1))
# feedback: ids_restore is modified in place (unsqueeze_); use ids_restore.unsqueeze(-1), which makes a new view
def unshuffle(x, mask_token, ids_restore):
    B, K1, D = x.shape
    L = ids_restore.shape[1]
    mask_tokens = mask_token.expand(B, L + 1 - K1, D)
    shuffled = torch.cat([x[:, 1:], mask_tokens], dim=1)
    restored = torch.gather(shuffled, 1, ids_restore.unsqueeze_(-1).expand(-1, -1, D))
    return torch.cat([x[:, :1], restored], dim=1)
