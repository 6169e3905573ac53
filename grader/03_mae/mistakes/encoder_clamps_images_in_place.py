# cell: mae_encoder
# why: clamps the images to [0, 1] in place before cutting them into patches: the caller's images change, and any pixel outside [0, 1] is lost
# feedback: the images are modified in place (clamp_) and clipped; the encoder must use imgs as they are
class MAEEncoder(MAEEncoderBase):
    def forward(self, imgs, mask_ratio, noise=None, generator=None):
        imgs = imgs.clamp_(0, 1)
        x = self.patch_embed(patchify(imgs, self.patch_size))
        x = x + self.pos_embed[:, 1:]
        x, mask, ids_restore = random_masking(x, mask_ratio, noise, generator)
        cls = self.cls_token + self.pos_embed[:, :1]
        x = torch.cat([cls.expand(x.size(0), -1, -1), x], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x), mask, ids_restore
