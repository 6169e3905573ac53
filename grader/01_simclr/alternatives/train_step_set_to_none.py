# cell: train_step
# why: zero_grad(set_to_none=True) on the optimiser, the loss value read with float()
# expect: full
def train_step(model, optimizer, x1, x2, loss_fn):
    optimizer.zero_grad(set_to_none=True)
    projections = [model(view)[1] for view in (x1, x2)]
    value = loss_fn(*projections)
    value.backward()
    optimizer.step()
    return float(value.detach())
