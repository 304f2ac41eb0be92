"""A real Prometheus scrapes a real gate while a bounded load runs; PromQL agrees with the load.

The gate runs as in the pod (its ConfigMap's files, limit 2, queue 3) in front of the stand-in of
tests/shimmy_gpu/pod/test_gate.py, which answers after the time a request asks it to hold; Prometheus is
Debian's, scraping every second.
"""

import json
import statistics
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest

from shimmy_gpu.pod import gate_series
from tests.shimmy_gpu.pod.test_gate import call, free_port, start_gate, wait_port

ROUTE = "/api/generate"


@pytest.fixture
def scraped(tmp_path, prometheus_bin):
    metrics = free_port()
    port, *gate = start_gate(tmp_path, "--metrics-listen", f"127.0.0.1:{metrics}")
    web = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        f"scrape_configs: [{{job_name: gate, static_configs: [{{targets: ['127.0.0.1:{metrics}']}}]}}]\n"
    )
    prometheus = subprocess.Popen(
        [str(prometheus_bin / "prometheus"), f"--config.file={config}",
         f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{web}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_ready(web)
    try:
        yield port, web
    finally:
        for process in (prometheus, *gate):
            process.terminate()
            process.wait(30)


def wait_ready(web: int, timeout: float = 120) -> None:
    """Until Prometheus says it is ready: it listens before its storage is open, and its API
    answers 503 meanwhile (seen on a cold machine)."""
    wait_port(web)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web}/-/ready", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:  # urllib's HTTPError (503) included
            pass
        assert time.monotonic() < deadline, "Prometheus not ready in time"
        time.sleep(0.2)


def query(web: int, promql: str) -> list[dict]:
    url = f"http://127.0.0.1:{web}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)["data"]["result"]


def value(web: int, promql: str) -> float | None:
    result = query(web, promql)
    return float(result[0]["value"][1]) if result else None


def eventually(web: int, promql: str, expected: float, timeout: float = 30) -> float | None:
    deadline = time.monotonic() + timeout
    while (seen := value(web, promql)) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    return seen


def run_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_prometheus_sees_what_the_load_saw(scraped):
    port, web = scraped
    assert eventually(web, 'up{job="gate"}', 1) == 1
    latencies, statuses, lock = [], [], threading.Lock()

    def one(hold: float, barrier: threading.Barrier | None = None):
        if barrier:
            barrier.wait()
        began = time.monotonic()
        status = call(port, "POST", ROUTE, {"model": "m", "prompt": "p", "hold": hold})[0]
        with lock:
            statuses.append(status)
            if status == 200:
                latencies.append(time.monotonic() - began)

    # Six at 0.3 s, two at a time; then eight at once held 3 s: two run, three wait, three refused.
    for _ in range(3):
        run_all([threading.Thread(target=one, args=(0.3,)) for _ in range(2)])
    together = threading.Barrier(8)
    run_all([threading.Thread(target=one, args=(3, together)) for _ in range(8)])
    assert sorted(statuses) == [200] * 11 + [503] * 3

    requests = gate_series.REQUESTS
    answered = f'{requests}{{route="{ROUTE}",outcome="answered"}}'
    assert eventually(web, answered, 11) == 11
    assert value(web, f'sum({requests}{{outcome=~"{"|".join(gate_series.REJECTED)}"}})') == 3
    assert value(web, f'{requests}{{route="{ROUTE}",outcome="queue_full"}}') == 3
    assert value(web, f"max_over_time({gate_series.IN_FLIGHT}[5m])") == 2
    # The median the histogram gives lies in the bucket of the median the clients measured.
    p50 = value(
        web, f'histogram_quantile(0.5, sum by (le) ({gate_series.DURATION}_bucket{{route="{ROUTE}"}}))'
    )
    measured = statistics.median(latencies)
    bounds = (0, *gate_series.LATENCY_BUCKETS)
    upper = next(b for b in bounds if b >= measured)
    lower = bounds[bounds.index(upper) - 1]
    assert lower <= p50 <= upper, (p50, measured)
