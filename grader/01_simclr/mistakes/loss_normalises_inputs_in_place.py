# cell: nt_xent_loss
# why: z1 and z2 are normalised in place, which changes the caller's tensors (and breaks backward through the model)
def nt_xent_loss(z1, z2, temperature):
    n = z1.shape[0]
    z1.div_(z1.norm(dim=1, keepdim=True).clamp_min(1e-8))
    z2.div_(z2.norm(dim=1, keepdim=True).clamp_min(1e-8))
    z = torch.cat([z1, z2], dim=0)
    logits = (z @ z.T) / temperature
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    positives = (torch.arange(2 * n) + n) % (2 * n)
    return torch.nn.functional.cross_entropy(logits, positives)
