# cell: generate_caption
# why: a separate greedy loop for beam_size == 1 and a beam search that keeps (score, tokens) pairs in a heap
# expect: full
import heapq


@torch.no_grad()
def generate_caption(model, clip_embed, eos_id, max_length=20, beam_size=1):
    out = []
    for e in clip_embed:
        prefix = model.mapper(e.unsqueeze(0))
        if beam_size == 1:
            seq, total = [], 0.0
            while len(seq) < max_length:
                x = torch.cat([prefix, model.lm.embed(torch.tensor([seq], dtype=torch.long))], dim=1)
                nxt = int(model.lm.forward_embeds(x)[0, -1].argmax())
                seq.append(nxt)
                if nxt == eos_id:
                    break
            out.append(seq[:-1] if seq and seq[-1] == eos_id else seq)
            continue
        beams, finished = [(0.0, [])], []
        for _ in range(max_length):
            pool = []
            for score, seq in beams:
                x = torch.cat([prefix, model.lm.embed(torch.tensor([seq], dtype=torch.long))], dim=1)
                logp = torch.log_softmax(model.lm.forward_embeds(x)[0, -1].double(), dim=-1)
                for tok in range(logp.shape[0]):
                    pool.append((score + float(logp[tok]), seq + [tok]))
            best = heapq.nlargest(beam_size, pool, key=lambda item: item[0])
            beams = [b for b in best if b[1][-1] != eos_id]
            finished += [b for b in best if b[1][-1] == eos_id]
            if not beams:
                break
        score, seq = max(finished + beams, key=lambda item: item[0] / len(item[1]))
        out.append(seq[:-1] if seq[-1] == eos_id else seq)
    return out
