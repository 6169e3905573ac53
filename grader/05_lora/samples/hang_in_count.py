# cell: count_parameters
# why: count_parameters never returns (a loop that never ends): it costs one scaled time limit, then fails at once
# expect: zero
def count_parameters(model):
    total = 0
    while True:
        total += sum(p.numel() for p in model.parameters())
