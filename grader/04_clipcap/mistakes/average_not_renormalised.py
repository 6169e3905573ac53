# cell: zero_shot_classifier
# why: normalises each template embedding but returns their average without normalising it again
# feedback: the average of unit vectors is shorter than 1; normalise it again
def zero_shot_classifier(encode_text, classnames, templates):
    rows = []
    for name in classnames:
        emb = F.normalize(encode_text([t.format(name) for t in templates]), dim=-1)
        rows.append(emb.mean(dim=0))
    return torch.stack(rows)
