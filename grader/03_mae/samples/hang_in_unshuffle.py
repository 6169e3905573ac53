# cell: unshuffle
# why: the unshuffle never returns (a loop that never ends): it costs one scaled time limit, then fails at once
# expect: zero
def unshuffle(x, mask_token, ids_restore):
    n = x.shape[1]
    while n > 0:
        n = n + 1
    return x
