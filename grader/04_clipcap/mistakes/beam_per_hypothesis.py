# cell: generate_caption
# why: keeps the best extension of each live hypothesis instead of the beam_size best over all of them, so the beam never branches
# feedback: rank the extensions of all live hypotheses together and keep the beam_size best
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
                v, t = logp.max(dim=-1)
                candidates.append((tokens + [int(t)], score + float(v)))
            live = []
            for tokens, score in candidates[:beam_size]:
                (done if tokens[-1] == eos_id else live).append((tokens, score))
            if not live:
                break
        best = max(done + live, key=lambda c: c[1] / len(c[0]))[0]
        captions.append(best[:-1] if best[-1] == eos_id else best)
    return captions
