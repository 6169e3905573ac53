# cell: train_step
# why: the loss tensor is returned instead of a Python float (loss.item())
def train_step(model, optimizer, x1, x2, loss_fn):
    optimizer.zero_grad()
    _, z1 = model(x1)
    _, z2 = model(x2)
    loss = loss_fn(z1, z2)
    loss.backward()
    optimizer.step()
    return loss.detach()
