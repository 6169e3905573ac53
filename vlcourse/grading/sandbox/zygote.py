"""The warm parent of the runners, inside the sandbox: torch is imported once, each submission forks.

Started by :class:`vlcourse.grading.sandbox.forkserver.ForkServer` as
``python -m vlcourse.grading.sandbox.zygote CONTROL_FD [sandboxed]``. During start-up it imports torch and what the
assignment preloads, pays torch's first-use costs (the first optimiser step alone takes seconds),
then replaces the withheld reference functions with stubs. Everything up to here is trusted code.
Then it waits on the control socket and, for each ``fork`` request, forks a runner that serves one
submission (:class:`vlcourse.grading.sandbox.child.Runner`). A fork costs milliseconds, so no submission
pays for the interpreter and torch start-up again.

Control messages are small JSON objects over a ``SOCK_SEQPACKET`` Unix socket; a ``fork`` request
carries three file descriptors (the runner's request pipe, reply pipe and output pipe):

* ``{"op": "fork", "workdir": str, "limits": {...}, "seed": int}`` + fds -> ``{"pid": int}``
* ``{"op": "wait", "pid": int, "timeout": float}`` -> ``{"status": int | None}`` (negative: signal)
* ``{"op": "ping"}`` -> ``{"ok": true}``

Student code only ever runs in a forked runner, never here. The zygote is made non-dumpable, so a
runner (same user id) can neither trace it nor read its memory. In the sandbox it is the PID
namespace's init, so runners cannot kill or stop it either; without the sandbox they can, which
costs the attacker its own runner and a restart (see ``ForkServer``). Before each fork the zygote empties
the sandbox's shared scratch folders (``/tmp``, ``/var/tmp``, ``/dev/shm``) and removes System V
IPC objects, so nothing a runner left there reaches the next submission.
"""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import json
import os
import select
import signal
import socket
import sys
import time
import traceback

MAX_MESSAGE_BYTES = 1 << 16
SHARED_SCRATCH = ["/tmp", "/var/tmp", "/dev/shm"]
PR_SET_DUMPABLE = 4
PR_SET_PDEATHSIG = 1
IPC_RMID = 0


# --- control messages (also used by the grader's side) ---------------------------------------------


def send_message(sock: socket.socket, message: dict, fds: list[int] = ()) -> None:
    payload = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [payload], list(fds))
    else:
        sock.sendall(payload)


def receive_message(sock: socket.socket, timeout: float | None = None) -> tuple[dict, list[int]]:
    """One message and the descriptors that came with it; ``TimeoutError`` or ``EOFError``."""
    if timeout is not None:
        ready, _, _ = select.select([sock], [], [], max(0.0, timeout))
        if not ready:
            raise TimeoutError("no control message in time")
    payload, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE_BYTES, 8)
    if not payload:
        for fd in fds:
            os.close(fd)
        raise EOFError("control socket closed")
    message = json.loads(payload)
    if type(message) is not dict:
        raise ValueError("control message is not an object")
    return message, fds


# --- the zygote's own start-up ------------------------------------------------------------------------


def set_dumpable(dumpable: bool) -> None:
    """``prctl(PR_SET_DUMPABLE)``: a non-dumpable process cannot be traced by processes of its user."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_DUMPABLE, int(dumpable), 0, 0, 0)


def warm_up_torch() -> None:
    """Run the first-use paths of torch once (lazy imports, kernels, the optimisers' machinery)."""
    import torch
    import torch.nn.functional as F

    layers = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.Linear(4 * 8 * 8, 10), torch.nn.LayerNorm(10))
    for optimizer_class in (torch.optim.AdamW, torch.optim.Adam, torch.optim.SGD):
        optimizer = optimizer_class(layers.parameters(), lr=1e-3)
        logits = layers(torch.randn(4, 1, 8, 8))
        loss = F.cross_entropy(logits, torch.arange(4)) + F.normalize(logits, dim=1).softmax(-1).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        F.scaled_dot_product_attention(*torch.randn(3, 1, 2, 4, 8), is_causal=True)


def empty_shared_scratch() -> None:
    """Remove whatever earlier runners left in the sandbox's shared temporary folders.

    The grader's own folders may be mounted below ``/tmp`` (``work/`` is, by default): deletion
    never crosses into another file system, so those mounts are left alone.
    """
    for folder in SHARED_SCRATCH:
        try:
            device = os.lstat(folder).st_dev
        except OSError:
            continue
        remove_tree_contents(folder, device)


def remove_sysv_ipc() -> None:
    """Remove the System V shared memory segments, semaphores and message queues runners created.

    They live in the sandbox's IPC namespace, which outlives each runner; ``/proc/sysvipc`` lists them.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    removers = {
        "shm": lambda ident: libc.shmctl(ident, IPC_RMID, None),
        "sem": lambda ident: libc.semctl(ident, 0, IPC_RMID),
        "msg": lambda ident: libc.msgctl(ident, IPC_RMID, None),
    }
    for kind, remove in removers.items():
        try:
            rows = open(f"/proc/sysvipc/{kind}").read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            remove(int(row.split()[1]))  # the second column is the object's id


def remove_tree_contents(folder: str, device: int) -> None:
    """Delete what is inside ``folder`` on file system ``device``; skip mount points (other devices)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if info.st_dev != device:
            continue  # a mount point: not ours to empty
        if entry.is_dir(follow_symlinks=False):
            remove_tree_contents(entry.path, device)
            try:
                os.rmdir(entry.path)
            except OSError:
                pass  # still holds a mount point
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                pass


# --- forking runners ------------------------------------------------------------------------------


def become_runner(request: dict, request_fd: int, reply_fd: int, output_fd: int) -> None:
    """In the forked child: limits, output, folder and seeds, then serve the grader until it hangs up."""
    import torch

    from vlcourse.grading.sandbox.child import Runner, seed_everything
    from vlcourse.grading.sandbox.limits import Limits, apply_rlimits
    from vlcourse.grading.sandbox.protocol import ChannelClosed, write_frame

    os.setsid()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # KeyboardInterrupt, as in any Python
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # end with the zygote
    set_dumpable(True)  # the runner itself may be inspected by its own processes, as usual
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=False)  # the grader asks where a hang is
    os.chdir(request["workdir"])
    sys.path.insert(0, "")  # as in Jupyter: the notebook's own folder is importable (the zygote's is not)
    limits = Limits(**request["limits"])
    apply_rlimits(limits)
    torch.set_num_threads(limits.threads)
    seed_everything(int(request["seed"]))
    runner = Runner()
    write_frame(reply_fd, {"ok": True, "ready": True})
    try:
        runner.serve(request_fd, reply_fd)
    except ChannelClosed:
        pass


def fork_runner(request: dict, fds: list[int], control: socket.socket) -> int:
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        raise ValueError(f"a fork request needs 3 descriptors, got {len(fds)}")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            control.close()
            become_runner(request, *fds)
        except BaseException:  # noqa: BLE001 - the child must never return into the zygote's loop
            traceback.print_exc()
            status = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    for fd in fds:
        os.close(fd)
    return pid


class Children:
    """Exit statuses of forked runners (the zygote is their parent, so it must reap them)."""

    def __init__(self):
        self.finished: dict[int, int] = {}

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if len(self.finished) > 1000:
                self.finished.clear()
            self.finished[pid] = os.waitstatus_to_exitcode(status)

    def wait(self, pid: int, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while True:
            self.reap()
            if pid in self.finished:
                return self.finished.pop(pid)
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.005)


def serve(control: socket.socket, sandboxed: bool) -> None:
    children = Children()
    while True:
        try:
            message, fds = receive_message(control)
        except EOFError:
            return
        children.reap()
        op = message.get("op")
        try:
            if op == "fork":
                if sandboxed:
                    empty_shared_scratch()
                    remove_sysv_ipc()
                reply = {"pid": fork_runner(message, fds, control)}
            elif op == "wait":
                reply = {"status": children.wait(int(message["pid"]), float(message.get("timeout", 5)))}
            elif op == "ping":
                reply = {"ok": True}
            else:
                reply = {"error": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - report to the grader and keep serving
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        send_message(control, reply)


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[1]))
    set_dumpable(False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as the sandbox's init it then ignores SIGINT from runners
    import torch

    from vlcourse.grading.sandbox.child import Runner, preload, withhold  # noqa: F401 - imported once, here
    from vlcourse.grading.sandbox.limits import apply_rlimits  # noqa: F401

    torch.set_num_threads(1)  # one thread while warming up: no OpenMP pool for the children to inherit
    preload([n for n in os.environ.get("VLCOURSE_PRELOAD", "").split(",") if n])
    warm_up_torch()
    withhold([n for n in os.environ.get("VLCOURSE_WITHHELD", "").split(",") if n])
    gc.collect()
    gc.freeze()  # the children's garbage collector leaves the zygote's objects (and their pages) alone
    send_message(control, {"ready": True, "pid": os.getpid()})
    serve(control, sandboxed=argv[2:] == ["sandboxed"])


if __name__ == "__main__":
    main(sys.argv)
