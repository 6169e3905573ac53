# cell: unshuffle
# why: copies the mask token's values with .detach() (to "repeat" it), so the learnt mask token never gets a gradient
# feedback: the mask token gets no gradient: expand or repeat it without detaching it
def unshuffle(x, mask_token, ids_restore):
    B, K1, D = x.shape
    L = ids_restore.shape[1]
    mask_tokens = mask_token.detach().repeat(B, L + 1 - K1, 1)
    shuffled = torch.cat([x[:, 1:], mask_tokens], dim=1)
    restored = torch.gather(shuffled, 1, ids_restore.unsqueeze(-1).expand(-1, -1, D))
    return torch.cat([x[:, :1], restored], dim=1)
