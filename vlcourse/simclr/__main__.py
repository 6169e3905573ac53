"""``python -m vlcourse.simclr --preset tiny``: train a reference checkpoint (also under torchrun)."""

from vlcourse.simclr.pretrain import main

main()
