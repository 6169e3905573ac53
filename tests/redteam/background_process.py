# why: starts a detached background process meant to outlive the runner
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # vlcourse-redteam-sleeper"],
                 start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
import os
if os.fork() == 0:
    os.setsid()
    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)  # vlcourse-redteam-sleeper"])
def add(a, b):
    return a
