# cell: random_masking
# why: a student's own masking: one image at a time, a permutation from the sorted noise, the inverse built in a loop (copy-detection corpus)
# expect: full
def random_masking(x, mask_ratio, noise=None, generator=None):
    batch_size, num_tokens, dim = x.shape
    keep = int(num_tokens * (1 - mask_ratio))
    if noise is None:
        noise = torch.rand(batch_size, num_tokens, generator=generator, device=x.device)
    kept_rows, mask_rows, restore_rows = [], [], []
    for b in range(batch_size):
        order = torch.sort(noise[b]).indices
        inverse = torch.zeros(num_tokens, dtype=torch.long, device=x.device)
        for place, token in enumerate(order.tolist()):
            inverse[token] = place
        kept_rows.append(x[b, order[:keep]])
        mask_rows.append((inverse >= keep).to(x.dtype))
        restore_rows.append(inverse)
    return torch.stack(kept_rows), torch.stack(mask_rows), torch.stack(restore_rows)
