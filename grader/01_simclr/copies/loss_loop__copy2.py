# cell: nt_xent_loss
# why: a third student's copy of the same loss: passed on from the first copy, names changed again, a debug flag and a print left in, the loop body reordered
# expect: full
def nt_xent_loss(z1, z2, temperature):
    verbose = False
    # put both batches together, unit length
    allz = torch.cat([z1, z2], dim=0)
    allz = allz / allz.norm(dim=1, keepdim=True).clamp_min(1e-8)

    count = allz.shape[0]
    mid = count // 2
    per_anchor = []

    for a in range(count):
        s = allz[a] @ allz.T / temperature
        if verbose:
            print(a, s.shape)
        pos = s[(a + mid) % count]
        negs = torch.cat([s[:a], s[a + 1:]])
        per_anchor.append(torch.logsumexp(negs, dim=0) - pos)

    return torch.stack(per_anchor).mean()
