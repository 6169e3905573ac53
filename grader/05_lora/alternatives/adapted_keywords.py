# cell: adapted_model
# why: the same run with every argument by keyword and a longer warm-up
# expect: full
steps = budget(full=300, quick=20, grade=2)
config = LoRAConfig(r=4, alpha=8.0, target_modules=GPT_ATTENTION)
train_cfg = TrainConfig(steps=steps, lr=4e-2, min_lr=4e-3, warmup_steps=min(30, steps), weight_decay=0.0,
                        grad_clip=1.0, eval_every=budget(full=50, quick=10, grade=1))
torch.manual_seed(0)
model = inject_lora(copy.deepcopy(base), config.target_modules, config.r, config.alpha, config.dropout)
history = adapt(model=model, train_ids=train_ids, val_ids=val_ids, cfg=train_cfg, batch_size=32)
size = save_adapter(model, "adapter.safetensors", config)
