# cell: train_step
# why: the gradients are cleared between backward and step, so the step uses zero gradients
def train_step(model, optimizer, x1, x2, loss_fn):
    _, z1 = model(x1)
    _, z2 = model(x2)
    loss = loss_fn(z1, z2)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()
