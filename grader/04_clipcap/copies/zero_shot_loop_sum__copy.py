# cell: zero_shot_classifier
# why: the same classifier copied from a classmate: names changed, a comment added
# expect: full
def zero_shot_classifier(encode_text, classnames, templates):
    rows = []
    for c in classnames:
        prompts = []
        for t in templates:
            prompts.append(t.format(c))
        embs = encode_text(prompts)
        # sum of unit vectors
        acc = torch.zeros_like(embs[0])
        for e in embs:
            acc = acc + e / torch.linalg.vector_norm(e)
        acc = acc / len(prompts)
        rows.append(acc / torch.linalg.vector_norm(acc))
    return torch.stack(rows, dim=0)
