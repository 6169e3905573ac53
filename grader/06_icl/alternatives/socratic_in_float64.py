# cell: socratic_caption
# why: computes every similarity in float64 (whatever the inputs' dtypes) with torch.topk-free stable sorts and an explicit dedup set
# expect: full
def socratic_caption(client, image_embedding, encode_text, proposals, k=3, n=4, model=CAPTION_LM, temperature=1.0, seed=0):
    if k < 1 or k > len(proposals) or n < 1:
        raise ValueError("k must be in 1..len(proposals) and n >= 1")
    image = image_embedding.double()
    image = image / image.norm()
    texts = encode_text(list(proposals)).double()
    sims = (texts / texts.norm(dim=1, keepdim=True)) @ image
    order = sorted(range(len(proposals)), key=lambda i: sims[i].item(), reverse=True)[:k]
    kept = [proposals[i] for i in order]
    reply = client.completions.create(model=model, prompt=kept, n=n, temperature=temperature, seed=seed,
                                      max_tokens=16, stop=["\n"])
    seen, candidates = set(), []
    for choice in sorted(reply.choices, key=lambda c: c.index):
        caption = (kept[choice.index // n] + choice.text).strip()
        if caption not in seen:
            seen.add(caption)
            candidates.append(caption)
    emb = encode_text(candidates).double()
    scores = (emb / emb.norm(dim=1, keepdim=True)) @ image
    ranked = sorted(zip(candidates, scores.tolist()), key=lambda pair: -pair[1])
    return ranked
