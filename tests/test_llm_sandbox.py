"""A sandboxed runner reaches the grader's LLM endpoint through a bound Unix socket, and nothing else."""

import socket
from pathlib import Path

import pytest

from vlcourse.grading.authoring.assignment import load_assignment
from vlcourse.grading.sandbox.forkserver import ForkServer, RunnerSpec
from vlcourse.grading.sandbox.limits import Limits
from vlcourse.grading.sandbox.runner import Cell, StudentRunner
from vlcourse.grading.sandbox.sandbox import bwrap_works
from vlcourse.grading.suite.student import Student

FAST = Limits(cell_seconds=60, call_seconds=60, startup_seconds=90, submission_seconds=120)

PROBE = r'''
import os, socket
from vlcourse.llm import LLM

def probe(port, outside_socket):
    llm = LLM(cache_dir=None, max_retries=0, timeout=30)
    text = llm.complete_text("ROMEO:", max_tokens=6, temperature=0, model="gpt-shakespeare-tiny")
    attempts = {}
    for name, connect in [
        ("tcp_loopback", lambda: socket.create_connection(("127.0.0.1", port), timeout=3)),
        ("tcp_public", lambda: socket.create_connection(("1.1.1.1", 443), timeout=3)),
        ("dns", lambda: socket.getaddrinfo("pypi.org", 443)),
        ("unix_outside", lambda: socket.socket(socket.AF_UNIX).connect(outside_socket)),
    ]:
        try:
            connect()
            attempts[name] = "reached"
        except OSError as exc:
            attempts[name] = type(exc).__name__
    folder = os.path.dirname(os.environ["VLCOURSE_LLM_SOCKET"])
    try:
        open(os.path.join(folder, "planted"), "w").close()
        attempts["write_socket_folder"] = "reached"
    except OSError as exc:
        attempts["write_socket_folder"] = type(exc).__name__
    return text, attempts, os.environ["VLCOURSE_LLM_SOCKET"]
'''


@pytest.mark.skipif(not bwrap_works(), reason="bubblewrap is not installed (setup.sh installs it)")
def test_sandboxed_runner_calls_the_endpoint_and_reaches_nothing_else(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))  # a service outside the sandbox
    outside = socket.socket(socket.AF_UNIX)
    outside.bind(str(tmp_path / "outside.sock"))
    outside.listen()
    with listener, outside, ForkServer(RunnerSpec(limits=FAST, sandbox=True, llm=True), tmp_path) as server:
        assert server.sandboxed
        server.reset()
        runner = StudentRunner([Cell(0, PROBE)], server)
        statuses = [r.status for r in runner.run_notebook()]
        try:
            text, attempts, path = Student(runner).probe(listener.getsockname()[1], str(tmp_path / "outside.sock"))
        finally:
            runner.close()
        assert statuses == ["ok"]
        assert len(text) == 6 and path == server.llm.endpoint.socket
        assert all(result != "reached" for result in attempts.values()), attempts
        assert not (Path(path).parent / "planted").exists()
        folder = server.llm.folder
    assert not folder.exists()  # the endpoint stops with its fork server


def test_llm_is_an_opt_in_of_assignment_toml(tmp_path):
    folder = tmp_path / "grader" / "09_icl"
    folder.mkdir(parents=True)
    (folder / "assignment.toml").write_text('notebook = "icl.ipynb"\nllm = true\n')
    assert load_assignment(str(folder)).llm
    (folder / "assignment.toml").write_text('notebook = "icl.ipynb"\n')
    assert not load_assignment(str(folder)).llm
    assert not RunnerSpec().llm
