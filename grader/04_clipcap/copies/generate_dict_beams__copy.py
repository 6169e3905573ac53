# cell: generate_caption
# why: the same decoder copied from a classmate: names changed, comments added, the if/else turned around
# expect: full
@torch.no_grad()
def generate_caption(model, clip_embed, eos_id, max_length=20, beam_size=1):
    out = []
    for i in range(clip_embed.shape[0]):
        pfx = model.mapper(clip_embed[i:i + 1])
        # live hypotheses and their scores
        live = {(): 0.0}
        finished = {}
        for t in range(max_length):
            cands = {}
            for hyp, sc in live.items():
                ids = torch.tensor([list(hyp)], dtype=torch.long)
                x = torch.cat([pfx, model.lm.embed(ids)], dim=1)
                lp = model.lm.forward_embeds(x)[0, -1].double().log_softmax(-1)
                v, k = lp.topk(min(beam_size, lp.shape[0]))
                for a, b in zip(v.tolist(), k.tolist()):
                    cands[hyp + (b,)] = sc + a
            best = sorted(cands.items(), key=lambda kv: kv[1], reverse=True)[:beam_size]
            live = {}
            for hyp, sc in best:
                if seq_done := hyp[-1] == eos_id:
                    finished[hyp] = sc
                if not seq_done:
                    live[hyp] = sc
            if len(live) == 0:
                break
        # length-normalised choice
        allh = list(finished.items()) + list(live.items())
        hyp, _ = max(allh, key=lambda kv: kv[1] / len(kv[0]))
        hyp = list(hyp)
        if hyp[-1] == eos_id:
            hyp = hyp[:-1]
        out.append(hyp)
    return out
