# cell: generate_caption
# why: leaves the end token at the end of each finished caption
# feedback: return the captions without the end token
@torch.no_grad()
def generate_caption(model, clip_embed, eos_id, max_length=20, beam_size=1):
    captions = []
    for i in range(clip_embed.shape[0]):
        prefix = model.mapper(clip_embed[i:i + 1])
        live, done = [([], 0.0)], []
        for _ in range(max_length):
            candidates = []
            for tokens, score in live:
                x = torch.cat([prefix, model.lm.embed(torch.tensor([tokens], dtype=torch.long))], dim=1)
                logp = F.log_softmax(model.lm.forward_embeds(x)[0, -1].double(), dim=-1)
                top = torch.topk(logp, min(beam_size, logp.numel()))
                candidates += [(tokens + [int(t)], score + float(v)) for v, t in zip(top.values, top.indices)]
            candidates.sort(key=lambda c: c[1], reverse=True)
            live = []
            for tokens, score in candidates[:beam_size]:
                (done if tokens[-1] == eos_id else live).append((tokens, score))
            if not live:
                break
        best = max(done + live, key=lambda c: c[1] / len(c[0]))[0]
        captions.append(best)
    return captions
