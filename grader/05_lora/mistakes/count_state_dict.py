# cell: count_parameters
# why: counts over state_dict(): the tied embedding is counted twice (and requires_grad is lost, so trainable counts everything)
# feedback: tied or shared weights are counted twice
def count_parameters(model):
    state = model.state_dict(keep_vars=True)
    return sum(p.numel() for p in state.values() if p.requires_grad), sum(p.numel() for p in state.values())
