"""``python -m vlcourse.mae --preset tiny``: train a reference checkpoint."""

from vlcourse.mae.train import main

main()
