# cell: nt_xent_loss
# why: F.normalize on the stacked views, the diagonal pushed down by subtracting a large multiple of the identity, targets made by rolling arange
# expect: full
def nt_xent_loss(z1, z2, temperature):
    reps = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1, eps=1e-8)
    sim = reps @ reps.T / temperature
    size = sim.shape[0]
    sim = sim - 1e9 * torch.eye(size, dtype=sim.dtype, device=sim.device)
    targets = torch.arange(size, device=sim.device).roll(size // 2)
    return torch.nn.functional.cross_entropy(sim, targets)
