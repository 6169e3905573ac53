# cell: unshuffle
# why: the same unshuffle copied from a classmate: renamed, the visible count computed first, the loop body spread over more lines, comments added
# expect: full
def unshuffle(x, mask_token, ids_restore):
    K = x.shape[1] - 1
    B, T, D = x.shape
    L = ids_restore.shape[1]
    out = []
    for i in range(B):
        # walk over the patches in their original order
        seq = []
        for j in range(L):
            where = int(ids_restore[i, j])
            tok = x[i, 1 + where] if where < K else mask_token[0, 0]
            seq.append(tok)
        out.append(torch.cat([x[i, :1], torch.stack(seq)], dim=0))
    return torch.stack(out)
