# cell: zero_shot_classifier
# why: a student's own classifier: a running sum of unit vectors per class, divided and renormalised by hand (copy-detection corpus)
# expect: full
def zero_shot_classifier(encode_text, classnames, templates):
    out = []
    for cname in classnames:
        filled = []
        for tpl in templates:
            filled.append(tpl.format(cname))
        vecs = encode_text(filled)
        running = torch.zeros_like(vecs[0])
        for v in vecs:
            running = running + v / torch.linalg.vector_norm(v)
        running = running / len(filled)
        out.append(running / torch.linalg.vector_norm(running))
    return torch.stack(out, dim=0)
