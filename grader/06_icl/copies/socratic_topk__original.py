# cell: socratic_caption
# why: a student's own Socratic loop: torch.topk on sorted scores, a set for duplicates, zip to pair up (copy-detection corpus)
# expect: full
def _unit(t):
    return t / t.norm(dim=-1, keepdim=True)


def socratic_caption(client, image_embedding, encode_text, proposals, k=3, n=4, model=CAPTION_LM, temperature=1.0, seed=0):
    if n < 1 or not (0 < k <= len(proposals)):
        raise ValueError("k or n out of range")
    img = _unit(image_embedding.float())
    prop_scores = [float(s) for s in _unit(encode_text(list(proposals)).float()) @ img]
    chosen = sorted(range(len(proposals)), key=lambda j: -prop_scores[j])[:k]
    prompts = [proposals[j] for j in chosen]
    out = client.completions.create(model=model, prompt=prompts, n=n, temperature=temperature, seed=seed,
                                    max_tokens=16, stop=["\n"])
    seen, caps = set(), []
    for c in sorted(out.choices, key=lambda c: c.index):
        cap = (prompts[c.index // n] + c.text).strip()
        if cap not in seen:
            seen.add(cap)
            caps.append(cap)
    cap_scores = [float(s) for s in _unit(encode_text(caps).float()) @ img]
    pairs = list(zip(caps, cap_scores))
    pairs.sort(key=lambda p: -p[1])
    return pairs
