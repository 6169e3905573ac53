# cell: socratic_caption
# why: the same Socratic loop copied: variables renamed, two independent lines swapped, comments changed
# expect: full
def _unit(v):
    return v / v.norm(dim=-1, keepdim=True)


def socratic_caption(client, image_embedding, encode_text, proposals, k=3, n=4, model=CAPTION_LM, temperature=1.0, seed=0):
    if n < 1 or not (0 < k <= len(proposals)):
        raise ValueError("invalid k / n")
    im = _unit(image_embedding.float())
    # CLIP picks the proposals
    p_sim = [float(s) for s in _unit(encode_text(list(proposals)).float()) @ im]
    top = sorted(range(len(proposals)), key=lambda i: -p_sim[i])[:k]
    texts = [proposals[i] for i in top]
    res = client.completions.create(model=model, prompt=texts, n=n, temperature=temperature, seed=seed,
                                    max_tokens=16, stop=["\n"])
    captions, done = [], set()
    for ch in sorted(res.choices, key=lambda ch: ch.index):
        caption = (texts[ch.index // n] + ch.text).strip()
        if caption not in done:
            done.add(caption)
            captions.append(caption)
    c_sim = [float(s) for s in _unit(encode_text(captions).float()) @ im]
    ranked = list(zip(captions, c_sim))
    ranked.sort(key=lambda r: -r[1])
    return ranked
