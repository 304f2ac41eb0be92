"""shimmy_gpu/gate.py: the limit's arithmetic, and the proxy against a stand-in shimmy.

The stand-in counts how many generation requests it serves at once; the gate must never let more
than its limit through, must pass GET /health without a slot, must answer 503 once its queue is
full, and must add its request defaults only where the client sent none. (The same gate ran on the
GPU in front of the real shimmy: docs/gpu-results.md.)
"""

import http.client
import json
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from shimmy_gpu import gate
from tests.program import ROOT


def test_limit_for_a_t4_and_phi3_mini():
    # phi-3-mini Q4: 1998 MiB weights + 1536 MiB KV (32 layers x 3072 x 2 x 4096 x f16) + 300 compute
    kv = gate.kv_cache_mib(n_layer=32, n_embd_k_gqa=3072, n_embd_v_gqa=3072)
    assert kv == 1536
    need = gate.request_memory_mib(1998, kv, 300)
    assert gate.limit_for(15360, need, 1024) == 3


def test_limit_is_at_least_one_and_rejects_nonsense():
    assert gate.limit_for(15360, 40000) == 1
    with pytest.raises(ValueError):
        gate.limit_for(15360, 0)


STAND_IN = textwrap.dedent(
    """\
    import json, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    lock, state = threading.Lock(), {"now": 0, "max": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
        def reply(self, body):
            data = json.dumps(body).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
            self.wfile.write(data)
        def do_GET(self):
            self.reply({"status": "ok", "max": state["max"]})
        def do_POST(self):
            got = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                state["now"] += 1; state["max"] = max(state["max"], state["now"])
            time.sleep(got.get("hold", 0.3))
            with lock:
                state["now"] -= 1
            self.reply({"response": "hello", "got": got})

    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    """
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@pytest.fixture
def gated(tmp_path):
    upstream, port = free_port(), free_port()
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    processes = [subprocess.Popen([sys.executable, str(script), str(upstream)])]
    processes.append(
        subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "shimmy_gpu" / "gate.py"),
                "--listen",
                f"127.0.0.1:{port}",
                "--upstream",
                f"127.0.0.1:{upstream}",
                "--limit",
                "2",
                "--queue",
                "3",
                "--queue-timeout",
                "30",
                "--request-default",
                "top_p=1.0",
            ]
        )
    )
    wait_port(upstream)
    wait_port(port)
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

    def one():
        # held long enough that all eight arrive before the first two finish, even on a busy machine
        results.append(call(gated, "POST", "/api/generate", {"model": "m", "prompt": "p", "hold": 3})[0])

    threads = [threading.Thread(target=one) for _ in range(8)]  # 2 run + 3 wait; 3 turned away
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] * 5 + [503] * 3


def test_gate_adds_request_defaults_only_where_absent(gated):
    _, plain = call(gated, "POST", "/api/generate", {"model": "m", "prompt": "p"})
    _, chosen = call(gated, "POST", "/v1/chat/completions", {"model": "m", "messages": [], "top_p": 0.5})
    assert json.loads(plain)["got"] == {"model": "m", "prompt": "p", "top_p": 1.0}
    assert json.loads(chosen)["got"]["top_p"] == 0.5


def test_with_defaults_leaves_non_objects_alone():
    assert gate.with_defaults(b"not json", {"top_p": 1.0}) == b"not json"
    assert gate.with_defaults(b"[1]", {"top_p": 1.0}) == b"[1]"
    assert gate.parse_default("top_p=1.0") == ("top_p", 1.0)


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
