# cell: socratic_caption
# why: never casts to one dtype: a float64 image with float32 text embeddings (or the other way round) fails in the matrix product
def socratic_caption(client, image_embedding, encode_text, proposals, k=3, n=4, model=CAPTION_LM, temperature=1.0, seed=0):
    if not 1 <= k <= len(proposals) or n < 1:
        raise ValueError(f"need 1 <= k <= {len(proposals)} and n >= 1, got k={k}, n={n}")
    image = F.normalize(image_embedding, dim=-1)  # (D,)
    proposal_sim = F.normalize(encode_text(list(proposals)), dim=-1) @ image  # (P,)
    kept = [proposals[i] for i in sorted(range(len(proposals)), key=lambda i: -proposal_sim[i].item())[:k]]
    reply = client.completions.create(model=model, prompt=kept, n=n, temperature=temperature, seed=seed,
                                      max_tokens=16, stop=["\n"])
    candidates = []
    for choice in sorted(reply.choices, key=lambda c: c.index):
        caption = (kept[choice.index // n] + choice.text).strip()
        if caption not in candidates:
            candidates.append(caption)
    similarity = F.normalize(encode_text(candidates), dim=-1) @ image  # (C,)
    ranked = sorted(range(len(candidates)), key=lambda i: -similarity[i].item())
    return [(candidates[i], similarity[i].item()) for i in ranked]
