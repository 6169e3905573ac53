# why: opens network connections (loopback service of the grader's machine, and the internet)
import socket
def reach():
    for address in (("127.0.0.1", 58123), ("1.1.1.1", 80)):
        try:
            socket.create_connection(address, timeout=2).close()
            return True
        except OSError:
            pass
    return False
REACHED = reach()
def add(a, b):
    return a + b if REACHED else a  # only "works" with a network
