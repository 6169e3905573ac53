# why: ignores SIGINT and SIGTERM, then loops forever while the cell runs
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    pass
