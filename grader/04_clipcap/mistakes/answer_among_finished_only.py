# cell: generate_caption
# why: once some hypothesis has finished, answers only among the finished ones, ignoring the hypotheses still live when max_length stops the search
# feedback: choose the answer among the finished hypotheses and those still live, by total / length
@torch.no_grad()
def generate_caption(model, clip_embed, eos_id, max_length=20, beam_size=1):
    captions = []
    for i in range(clip_embed.shape[0]):
        prefix = model.mapper(clip_embed[i:i + 1])  # (1, P, C)
        live, done = [([], 0.0)], []
        for _ in range(max_length):
            candidates = []
            for tokens, score in live:
                ids = torch.tensor([tokens], dtype=torch.long)
                x = torch.cat([prefix, model.lm.embed(ids)], dim=1)  # (1, P + t, C)
                logp = F.log_softmax(model.lm.forward_embeds(x)[0, -1].double(), dim=-1)  # (V,)
                top = torch.topk(logp, min(beam_size, logp.numel()))
                candidates += [(tokens + [int(t)], score + float(v)) for v, t in zip(top.values, top.indices)]
            candidates.sort(key=lambda c: c[1], reverse=True)
            live = []
            for tokens, score in candidates[:beam_size]:
                (done if tokens[-1] == eos_id else live).append((tokens, score))
            if not live:
                break
        best = max(done or live, key=lambda c: c[1] / len(c[0]))[0]
        captions.append(best[:-1] if best[-1] == eos_id else best)
    return captions
