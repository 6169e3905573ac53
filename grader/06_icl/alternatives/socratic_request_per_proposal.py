# cell: socratic_caption
# why: one request per kept proposal with n choices; cosine similarity with F.cosine_similarity
# expect: full
def socratic_caption(client, image_embedding, encode_text, proposals, k=3, n=4, model=CAPTION_LM, temperature=1.0, seed=0):
    if k < 1 or k > len(proposals) or n < 1:
        raise ValueError("bad k or n")
    sims = F.cosine_similarity(encode_text(list(proposals)).float(), image_embedding.float()[None], dim=-1)
    top = torch.argsort(-sims, stable=True)[:k].tolist()
    candidates = []
    for i in top:
        r = client.completions.create(model=model, prompt=proposals[i], n=n, temperature=temperature, seed=seed,
                                      max_tokens=16, stop=["\n"])
        for c in sorted(r.choices, key=lambda c: c.index):
            text = (proposals[i] + c.text).strip()
            if text not in candidates:
                candidates.append(text)
    scores = F.cosine_similarity(encode_text(candidates).float(), image_embedding.float()[None], dim=-1)
    order = torch.argsort(-scores, stable=True).tolist()
    return [(candidates[i], float(scores[i])) for i in order]
