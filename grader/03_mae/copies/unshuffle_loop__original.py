# cell: unshuffle
# why: a student's own unshuffle: every image and every position in a loop, taking the visible token at its place in the shuffle or the mask token (copy-detection corpus)
# expect: full
def unshuffle(x, mask_token, ids_restore):
    batch, tokens, width = x.shape
    length = ids_restore.shape[1]
    visible = tokens - 1
    rows = []
    for b in range(batch):
        row = []
        for l in range(length):
            place = int(ids_restore[b, l])
            row.append(x[b, 1 + place] if place < visible else mask_token[0, 0])
        rows.append(torch.cat([x[b, :1], torch.stack(row)], dim=0))
    return torch.stack(rows)
