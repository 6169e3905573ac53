# cell: generate_caption
# why: a student's own decoder: hypotheses kept in a dict from token tuples to scores, candidates ranked with sorted (copy-detection corpus)
# expect: full
@torch.no_grad()
def generate_caption(model, clip_embed, eos_id, max_length=20, beam_size=1):
    results = []
    for row in range(clip_embed.shape[0]):
        start = model.mapper(clip_embed[row:row + 1])
        alive = {(): 0.0}
        ended = {}
        for step in range(max_length):
            options = {}
            for seq, total in alive.items():
                ids = torch.tensor([list(seq)], dtype=torch.long)
                inp = torch.cat([start, model.lm.embed(ids)], dim=1)
                scores = model.lm.forward_embeds(inp)[0, -1].double().log_softmax(-1)
                vals, toks = scores.topk(min(beam_size, scores.shape[0]))
                for v, t in zip(vals.tolist(), toks.tolist()):
                    options[seq + (t,)] = total + v
            ranked = sorted(options.items(), key=lambda kv: kv[1], reverse=True)[:beam_size]
            alive = {}
            for seq, total in ranked:
                if seq[-1] == eos_id:
                    ended[seq] = total
                else:
                    alive[seq] = total
            if len(alive) == 0:
                break
        pool = list(ended.items()) + list(alive.items())
        seq, _ = max(pool, key=lambda kv: kv[1] / len(kv[0]))
        seq = list(seq)
        if seq[-1] == eos_id:
            seq = seq[:-1]
        results.append(seq)
    return results
