# cell: nt_xent_loss
# why: the loss never returns (a loop that never ends): it costs one scaled time limit, then fails at once
# expect: zero
def nt_xent_loss(z1, z2, temperature):
    n = z1.shape[0]
    while n > 0:
        n = n + 1
    return n
