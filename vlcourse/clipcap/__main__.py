"""``python -m vlcourse.clipcap --preset tiny``: train the reference caption GPT and mappers."""

from vlcourse.clipcap.train import main

main()
