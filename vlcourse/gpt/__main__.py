"""``python -m vlcourse.gpt --preset tiny``: train a reference checkpoint."""

from vlcourse.gpt.train import main

main()
