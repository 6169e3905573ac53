# cell: generate_caption
# why: a separate greedy loop stops at max_length, but the beam search's loop lets hypotheses grow to max_length + 1 tokens
# feedback: stop after max_length tokens in beam search too (the end token counts as one)
@torch.no_grad()
def generate_caption(model, clip_embed, eos_id, max_length=20, beam_size=1):
    captions = []
    for i in range(clip_embed.shape[0]):
        prefix = model.mapper(clip_embed[i:i + 1])  # (1, P, C)
        if beam_size == 1:
            tokens = []
            while len(tokens) < max_length:
                x = torch.cat([prefix, model.lm.embed(torch.tensor([tokens], dtype=torch.long))], dim=1)
                tokens.append(int(model.lm.forward_embeds(x)[0, -1].argmax()))
                if tokens[-1] == eos_id:
                    break
            captions.append(tokens[:-1] if tokens and tokens[-1] == eos_id else tokens)
            continue
        live, done = [([], 0.0)], []
        while live and len(live[0][0]) <= max_length:
            candidates = []
            for tokens, score in live:
                x = torch.cat([prefix, model.lm.embed(torch.tensor([tokens], dtype=torch.long))], dim=1)
                logp = F.log_softmax(model.lm.forward_embeds(x)[0, -1].double(), dim=-1)  # (V,)
                top = torch.topk(logp, beam_size)
                candidates += [(tokens + [int(t)], score + float(v)) for v, t in zip(top.values, top.indices)]
            candidates.sort(key=lambda c: c[1], reverse=True)
            live = []
            for tokens, score in candidates[:beam_size]:
                (done if tokens[-1] == eos_id else live).append((tokens, score))
        best = max(done + live, key=lambda c: c[1] / len(c[0]))[0]
        captions.append(best[:-1] if best[-1] == eos_id else best)
    return captions
