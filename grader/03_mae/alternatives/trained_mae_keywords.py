# cell: trained_mae
# why: the same run written with a lambda around the loss and every argument by keyword
# expect: full
steps = budget(full=1000, quick=30, grade=2)
config = MAEConfig()
train_cfg = TrainConfig(steps=steps, lr=5e-3, min_lr=5e-4, warmup_steps=min(20, steps), weight_decay=0.05,
                        eval_every=budget(full=100, quick=10, grade=1))
torch.manual_seed(0)
model = MAE(config, encoder_cls=MAEEncoder, unshuffle_fn=unshuffle)
history = train_mae(model=model, images=train_images, cfg=train_cfg, batch_size=64, val_images=val_images,
                    loss_fn=lambda p, t, m, n: mae_loss(p, t, m, norm_pix=n), patchify_fn=patchify)
save_mae(model, "mae.safetensors")
