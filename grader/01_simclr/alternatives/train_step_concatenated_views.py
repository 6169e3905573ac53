# cell: train_step
# why: both views go through the model in one forward pass (as in SimCLR's own code), model.zero_grad()
# expect: full
def train_step(model, optimizer, x1, x2, loss_fn):
    model.zero_grad(set_to_none=True)
    _, z = model(torch.cat([x1, x2], dim=0))
    z1, z2 = z.chunk(2, dim=0)
    loss = loss_fn(z1, z2)
    loss.backward()
    optimizer.step()
    return float(loss.detach())
