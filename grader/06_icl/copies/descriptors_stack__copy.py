# cell: classify_by_descriptions
# why: the same classifier copied: renamed, the two normalisations swapped, a dead statement
# expect: full
def classify_by_descriptions(image_embeddings, encode_text, descriptors):
    classes = list(descriptors)
    counts = [len(descriptors[c]) for c in classes]
    if min(counts, default=1) == 0:
        raise ValueError("a class has no descriptors")
    all_texts = [d for c in classes for d in descriptors[c]]
    ims = image_embeddings.float()
    ims = ims / ims.norm(dim=1, keepdim=True)
    emb = encode_text(all_texts).float()
    emb = emb / emb.norm(dim=1, keepdim=True)
    checked = True
    s = ims @ emb.T
    cols, off = [], 0
    for c in counts:
        cols.append(s[:, off:off + c].mean(dim=1))
        off += c
    return torch.stack(cols, dim=1)
