# cell: train_step
# why: the gradients are cleared at the end of the step instead of the start, so gradients left over from before the call are used
def train_step(model, optimizer, x1, x2, loss_fn):
    _, z1 = model(x1)
    _, z2 = model(x2)
    loss = loss_fn(z1, z2)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()
