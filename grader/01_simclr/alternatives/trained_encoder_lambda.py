# cell: trained_encoder
# why: the student's loss passed as a lambda that fixes the temperature, instead of functools.partial
# expect: full
steps = budget(full=500, quick=30, grade=3)
cfg = SimCLRConfig(steps=steps, warmup_steps=min(20, steps), eval_every=budget(full=100, quick=10, grade=3))
# Train with your own loss: model, history = train_simclr(cfg, loss_fn=...)
model, history = train_simclr(cfg, loss_fn=lambda a, b: nt_xent_loss(a, b, cfg.temperature))
save_encoder(model.encoder, "simclr_encoder.safetensors")
