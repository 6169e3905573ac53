# cell: mae_encoder
# why: runs the patch embedding under torch.no_grad() ("it is only a projection"), so neither it nor the images get gradients
# feedback: gradients do not reach the patch embedding (or the images): keep the whole forward pass differentiable
class MAEEncoder(MAEEncoderBase):
    def forward(self, imgs, mask_ratio, noise=None, generator=None):
        with torch.no_grad():
            x = self.patch_embed(patchify(imgs, self.patch_size))
        x = x + self.pos_embed[:, 1:]
        x, mask, ids_restore = random_masking(x, mask_ratio, noise, generator)
        cls = self.cls_token + self.pos_embed[:, :1]
        x = torch.cat([cls.expand(x.size(0), -1, -1), x], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x), mask, ids_restore
