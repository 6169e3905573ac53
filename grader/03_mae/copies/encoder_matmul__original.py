# cell: mae_encoder
# why: a student's own encoder: the patch embedding as an explicit matrix product, positions broadcast, the class token built with new_zeros, blocks applied with a while loop (copy-detection corpus)
# expect: full
class MAEEncoder(MAEEncoderBase):
    def forward(self, imgs, mask_ratio, noise=None, generator=None):
        flat = patchify(imgs, self.patch_size)
        weight, bias = self.patch_embed.weight, self.patch_embed.bias
        embedded = torch.matmul(flat, weight.transpose(0, 1)) + bias
        positioned = embedded + self.pos_embed[0, 1:].unsqueeze(0)
        chosen, mask, ids_restore = random_masking(positioned, mask_ratio, noise, generator)
        first = chosen.new_zeros(chosen.shape[0], 1, chosen.shape[2]) + self.cls_token + self.pos_embed[:, 0:1]
        hidden = torch.cat((first, chosen), dim=1)
        index = 0
        while index < len(self.blocks):
            hidden = self.blocks[index](hidden)
            index += 1
        return self.norm(hidden), mask, ids_restore
