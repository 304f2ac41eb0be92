"""shimmy_gpu/pod/gate.py: the proxy against a stand-in shimmy, run from the files its ConfigMap ships.

The stand-in counts how many generation requests it serves at once, and how many of them lost
their connection before the answer; the gate must never let more than its limit through, must pass
GET /health without a slot, must answer 503 once its queue is full, must add its request defaults
only where the client sent none, must drain at SIGTERM, and must close shimmy's connection for a
client that left only when told shimmy then stops. (The same gate ran on the GPU in front of the
real shimmy: docs/gpu-results.md.)
"""

import http.client
import json
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from shimmy_gpu import pod
from shimmy_gpu.pod import gate_http

STAND_IN = textwrap.dedent(
    """\
    import json, select, socket, struct, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    lock, state = threading.Lock(), {"now": 0, "max": 0, "abandoned": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
        def reply(self, body):
            data = json.dumps(body).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
            self.wfile.write(data)
        def do_GET(self):
            self.reply({"status": "ok", "max": state["max"], "abandoned": state["abandoned"]})
        def closed(self):  # the peer closed: readable, and nothing to read
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        def do_POST(self):
            got = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if got.get("drop"):  # like shimmy killed mid-generation: the connection ends unanswered
                if got["drop"] == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            with lock:
                state["now"] += 1; state["max"] = max(state["max"], state["now"])
            end, abandoned = time.monotonic() + got.get("hold", 0.3), False
            while time.monotonic() < end and not abandoned:  # like a generation, token after token
                time.sleep(0.02)
                abandoned = self.closed()
            with lock:
                state["now"] -= 1; state["abandoned"] += abandoned
            if not abandoned:
                self.reply({"response": "hello", "got": got})

    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    """
)


_handed_out: set[int] = set()


def free_port():
    """A free port, never one handed out before in this run: the kernel may give a port just
    closed again, and a gate given its upstream's port fails to start while that port answers."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def shipped_gate(folder):
    """The gate's ConfigMap written out as the pod mounts it; returns the script the pod runs."""
    folder.mkdir(exist_ok=True)
    for name, text in pod.files(pod.GATE).items():
        (folder / name).write_bytes(text.encode())
    return folder / pod.GATE[0]


def start_gate(tmp_path, *extra):
    """The stand-in and a gate (limit 2, queue 3) in front of it; returns its port and both processes."""
    upstream, port = free_port(), free_port()
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    stand_in = subprocess.Popen([sys.executable, str(script), str(upstream)])
    proxy = subprocess.Popen(
        [
            sys.executable, str(shipped_gate(tmp_path / "gate")),
            "--listen", f"127.0.0.1:{port}", "--upstream", f"127.0.0.1:{upstream}",
            "--limit", "2", "--queue", "3", "--queue-timeout", "30", "--request-default", "top_p=1.0",
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    wait_port(upstream)
    wait_port(port)
    assert proxy.poll() is None, "the gate did not start"
    return port, stand_in, proxy


@pytest.fixture
def gated(tmp_path):
    port, *processes = start_gate(tmp_path)
    yield port
    for p in processes:
        p.terminate()
        p.wait()


def call(port, method, path, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        method, path, json.dumps(body) if body is not None else None, {"Content-Type": "application/json"}
    )
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def test_gate_holds_the_limit_and_answers_everything_it_queues(gated):
    results = []

    def one():
        results.append(call(gated, "POST", "/api/generate", {"model": "m", "prompt": "p", "stream": False}))

    threads = [threading.Thread(target=one) for _ in range(5)]  # 2 run, 3 wait: all fit
    for t in threads:
        t.start()
    time.sleep(0.1)
    status, _ = call(gated, "GET", "/health")  # no slot needed while all slots are taken
    for t in threads:
        t.join()
    assert status == 200
    assert [s for s, _ in results] == [200] * 5
    assert json.loads(call(gated, "GET", "/health")[1])["max"] == 2
    # The gate counts a request served once shimmy closed its side, just after the client got it all.
    deadline = time.monotonic() + 5
    while (counters := json.loads(call(gated, "GET", "/gate")[1]))[
        "served"
    ] < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert counters["served"] == 5 and counters["max_in_flight"] == 2


def test_gate_rejects_beyond_its_queue(gated):
    results = []
    together = threading.Barrier(8)

    def one():
        # sent together and held long enough that all eight arrive before the first two finish,
        # even on a busy machine
        together.wait()
        results.append(call(gated, "POST", "/api/generate", {"model": "m", "prompt": "p", "hold": 4})[0])

    threads = [threading.Thread(target=one) for _ in range(8)]  # 2 run + 3 wait; 3 turned away
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] * 5 + [503] * 3


def test_while_shimmy_is_down_a_generation_gets_503_with_retry_after(tmp_path):
    # shimmy killed or still loading: nothing listens behind the gate, and the client is told to
    # come back rather than given a bare gateway error.
    port, stand_in, proxy = start_gate(tmp_path)
    stand_in.kill()
    stand_in.wait()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/api/generate", json.dumps({"prompt": "hi"}))
        response = connection.getresponse()
        assert response.status == 503 and response.getheader("Retry-After") == "5"
        assert json.loads(response.read()) == {"error": "shimmy is not answering: try again"}
    finally:
        proxy.terminate()
        proxy.wait()


@pytest.mark.parametrize("drop", ["close", "reset"])
def test_shimmy_gone_mid_generation_gets_503_with_retry_after_and_frees_the_slot(gated, drop):
    status, data = call(gated, "POST", "/api/generate", {"drop": drop})
    assert (status, json.loads(data)) == (503, {"error": "shimmy stopped before answering: try again"})
    statuses = [call(gated, "POST", "/api/generate", {"hold": 0})[0] for _ in range(3)]
    assert statuses == [200, 200, 200]  # the gate's slots are all free again


def test_gate_adds_request_defaults_only_where_absent(gated):
    _, plain = call(gated, "POST", "/api/generate", {"model": "m", "prompt": "p"})
    _, chosen = call(gated, "POST", "/v1/chat/completions", {"model": "m", "messages": [], "top_p": 0.5})
    assert json.loads(plain)["got"] == {"model": "m", "prompt": "p", "top_p": 1.0}
    assert json.loads(chosen)["got"]["top_p"] == 0.5


def test_with_defaults_leaves_non_objects_alone():
    assert gate_http.with_defaults(b"not json", {"top_p": 1.0}) == b"not json"
    assert gate_http.with_defaults(b"[1]", {"top_p": 1.0}) == b"[1]"
    assert gate_http.parse_default("top_p=1.0") == ("top_p", 1.0)


def raw_request(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head)
        return conn.recv(4096)


@pytest.mark.parametrize(
    ("length", "status"),
    [(b"-5", b"400"), (b"12abc", b"400"), (b"\xc2\xb2", b"400"), (b"99999999", b"413")],
    ids=["negative", "not-a-number", "unicode-digit", "over-a-mebibyte"],
)
def test_a_malformed_or_huge_body_is_refused_before_shimmy_sees_it(gated, length, status):
    head = b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n"
    assert raw_request(gated, head).split(b" ")[1] == status
    _, body = call(gated, "GET", "/gate")
    assert json.loads(body)["served"] == 0  # nothing reached the stand-in


def in_background(fn, *args):
    results = []
    thread = threading.Thread(target=lambda: results.append(fn(*args)))
    thread.start()
    return thread, results


def post_hold(port, hold):
    try:
        return call(port, "POST", "/api/generate", {"model": "m", "prompt": "p", "hold": hold})[0]
    except (ConnectionError, http.client.HTTPException):
        return "no answer"


def counters(port):
    return json.loads(call(port, "GET", "/gate")[1])


def wait_for(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_at_sigterm_requests_in_flight_finish_waiting_ones_get_503_and_the_gate_exits_0(tmp_path):
    port, stand_in, proxy = start_gate(tmp_path, "--drain-timeout", "20")
    try:
        running = [in_background(post_hold, port, 2) for _ in range(2)]
        wait_for(lambda: counters(port)["in_flight"] == 2)
        waiting = in_background(call, port, "POST", "/api/generate", {"model": "m", "prompt": "p"})
        wait_for(lambda: counters(port)["waiting"] == 1)
        proxy.send_signal(signal.SIGTERM)
        waiting[0].join()
        assert waiting[1][0][0] == 503 and b"restarting" in waiting[1][0][1]
        # While the requests in flight finish, a new one (the Service may still send it) is told too.
        status, data = call(port, "POST", "/api/generate", {"model": "m", "prompt": "p"})
        assert status == 503 and b"restarting" in data
        for thread, _ in running:
            thread.join()
        assert [r for _, results in running for r in results] == [200, 200]
        assert proxy.wait(timeout=10) == 0
        with pytest.raises(OSError):  # the listener is closed
            socket.create_connection(("127.0.0.1", port), timeout=2)
        assert "cut off" not in proxy.stdout.read()
    finally:
        for p in (stand_in, proxy):
            p.kill()
            p.wait()


def test_at_sigterm_it_reports_unready_and_keeps_answering_503_for_its_endpoint_grace(tmp_path):
    port, stand_in, proxy = start_gate(tmp_path, "--endpoint-grace", "1.5")
    try:
        assert call(port, "GET", "/gate")[0] == 200
        started = time.monotonic()
        proxy.send_signal(signal.SIGTERM)
        wait_for(lambda: counters(port)["stopping"])
        status, data = call(port, "GET", "/gate")
        assert status == 503 and json.loads(data)["stopping"]  # the readiness probe fails
        # Nothing in flight, and still listening: a connection the Service sends now is answered.
        status, data = call(port, "POST", "/api/generate", {"model": "m", "prompt": "p"})
        assert status == 503 and b"restarting" in data
        assert proxy.wait(timeout=10) == 0
        assert time.monotonic() - started >= 1.5
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
    finally:
        for p in (stand_in, proxy):
            p.kill()
            p.wait()


def test_at_sigterm_the_drain_ends_at_its_timeout(tmp_path):
    port, stand_in, proxy = start_gate(tmp_path, "--drain-timeout", "1")
    try:
        long = in_background(post_hold, port, 30)
        wait_for(lambda: counters(port)["in_flight"] == 1)
        started = time.monotonic()
        proxy.send_signal(signal.SIGTERM)
        assert proxy.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        assert "1 cut off at the drain timeout" in proxy.stdout.read()
        long[0].join()
        assert long[1] == ["no answer"]
    finally:
        for p in (stand_in, proxy):
            p.kill()
            p.wait()


def leave_mid_answer(port):
    """A client that sends a long generation and goes away after half a second."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        body = json.dumps({"model": "m", "prompt": "p", "hold": 20}).encode()
        conn.sendall(
            b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        time.sleep(0.5)


def abandoned(port):
    return json.loads(call(port, "GET", "/health")[1])["abandoned"]


def test_with_cancel_on_disconnect_a_client_that_leaves_frees_its_slot_and_shimmys_connection(tmp_path):
    port, *processes = start_gate(tmp_path, "--cancel-on-disconnect")
    try:
        leave_mid_answer(port)
        wait_for(lambda: abandoned(port) == 1)  # shimmy saw its connection close: it stops generating
        wait_for(lambda: counters(port)["in_flight"] == 0)
        assert counters(port)["client_gone"] == 1
    finally:
        for p in processes:
            p.kill()
            p.wait()


def test_without_it_the_slot_is_held_until_shimmy_has_finished(tmp_path):
    # shimmy as published keeps decoding for a client that left: the slot stays taken meanwhile.
    port, *processes = start_gate(tmp_path)
    try:
        leave_mid_answer(port)
        time.sleep(1)
        assert counters(port)["in_flight"] == 1
        assert abandoned(port) == 0
    finally:
        for p in processes:
            p.kill()
            p.wait()
