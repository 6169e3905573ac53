# cell: unshuffle
# why: makes the mask tokens by copying the learnt token into torch.zeros(B, L - K, D), a float32 buffer, so float64 mask tokens come back rounded to float32
# feedback: the mask tokens are rounded to float32 (torch.zeros without dtype= is float32): expand or repeat mask_token itself
def unshuffle(x, mask_token, ids_restore):
    B, K1, D = x.shape
    L = ids_restore.shape[1]
    mask_tokens = torch.zeros(B, L + 1 - K1, D, device=x.device)
    mask_tokens[:] = mask_token
    shuffled = torch.cat([x[:, 1:], mask_tokens], dim=1)
    restored = torch.gather(shuffled, 1, ids_restore.unsqueeze(-1).expand(-1, -1, D))
    return torch.cat([x[:, :1], restored], dim=1)
