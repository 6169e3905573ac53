# cell: classify_by_descriptions
# why: a student's own classifier: every descriptor embedded at once, then sliced per class (copy-detection corpus)
# expect: full
def classify_by_descriptions(image_embeddings, encode_text, descriptors):
    names = list(descriptors)
    sizes = [len(descriptors[c]) for c in names]
    if min(sizes, default=1) == 0:
        raise ValueError("every class needs at least one description")
    flat = [d for c in names for d in descriptors[c]]
    txt = encode_text(flat).float()
    txt = txt / txt.norm(dim=1, keepdim=True)
    img = image_embeddings.float()
    img = img / img.norm(dim=1, keepdim=True)
    sim = img @ txt.T
    parts, start = [], 0
    for size in sizes:
        parts.append(sim[:, start:start + size].mean(dim=1))
        start += size
    return torch.stack(parts, dim=1)
