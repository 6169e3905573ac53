# cell: count_parameters
# why: counts parameter tensors instead of their elements
# feedback: counts tensors, not numbers
def count_parameters(model):
    params = list(model.parameters())
    return sum(1 for p in params if p.requires_grad), len(params)
