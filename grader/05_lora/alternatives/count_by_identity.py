# cell: count_parameters
# why: deduplicates shared tensors by id over named_parameters(remove_duplicate=False)
# expect: full
def count_parameters(model):
    seen = {}
    for _, p in model.named_parameters(remove_duplicate=False):
        seen[id(p)] = p
    trainable = sum(p.numel() for p in seen.values() if p.requires_grad)
    total = sum(p.numel() for p in seen.values())
    return int(trainable), int(total)
