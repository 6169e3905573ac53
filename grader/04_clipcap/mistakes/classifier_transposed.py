# cell: zero_shot_classifier
# why: returns the class embeddings as columns, (D, C), as open_clip's build_zero_shot_classifier does
# feedback: return one row per class, shape (C, D)
def zero_shot_classifier(encode_text, classnames, templates):
    rows = []
    for name in classnames:
        emb = F.normalize(encode_text([t.format(name) for t in templates]), dim=-1)
        rows.append(F.normalize(emb.mean(dim=0), dim=-1))
    return torch.stack(rows, dim=1)
