"""``python -m vlcourse.lora``: train the reference adapter."""

from vlcourse.lora.train import main

main()
