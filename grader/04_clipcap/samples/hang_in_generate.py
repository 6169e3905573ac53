# cell: generate_caption
# why: the decoding loop never ends (a counter that was meant to stop at max_length never does): it costs one scaled time limit, then fails at once
# expect: zero
@torch.no_grad()
def generate_caption(model, clip_embed, eos_id, max_length=20, beam_size=1):
    steps = 0
    while steps >= 0:
        steps = steps + 1
    return [[] for _ in range(clip_embed.shape[0])]
