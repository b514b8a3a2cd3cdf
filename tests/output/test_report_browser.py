"""The HTML report rendered in real headless Chromium (Debian's package), over DevTools.

The page must draw one chart per query metric (SVG paths with real points), show each
table, log no console error or exception, and ask the network for nothing. The test also
saves the screenshot the README shows (docs/report.png) when QUERYLANG_SCREENSHOT is set.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from tests.system import debian_binary

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-20T00:00:00Z"


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == method:
                return message
        raise AssertionError(f"no {method} within {timeout} s")

    def drain(self, seconds: float) -> None:
        self.ws.settimeout(seconds)
        try:
            while True:
                self.events.append(json.loads(self.ws.recv()))
        except Exception:  # the timeout: nothing more came
            pass
        self.ws.settimeout(30)


@pytest.fixture(scope="module")
def chromium():
    path = debian_binary("chromium", "chromium", "/usr/bin/chromium")
    profile = tempfile.mkdtemp(prefix="querylang-chromium-")
    proc = subprocess.Popen(
        [path, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1200,900",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    port_file = Path(profile) / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not port_file.exists() or not port_file.read_text().strip():
        assert proc.poll() is None, "chromium exited at start"
        assert time.monotonic() < deadline, "chromium did not open its DevTools port"
        time.sleep(0.1)
    port = int(port_file.read_text().split()[0])
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


def page_socket(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
        targets = json.load(answer)
    return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


def test_report_draws_charts_and_tables_in_chromium(tmp_path, chromium) -> None:
    report = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "querylang.cli", "run", "--sandbox", "--now", NOW,
         "examples/sandbox.qry", "--output", str(report)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    as_json = subprocess.run(
        [sys.executable, "-m", "querylang.cli", "run", "--sandbox", "--now", NOW,
         "examples/sandbox.qry", "-f", "json"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    data = json.loads(as_json.stdout)["results"]
    text = report.read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text

    tools = DevTools(page_socket(chromium))
    tools.call("Runtime.enable")
    tools.call("Log.enable")
    tools.call("Network.enable")
    tools.call("Page.enable")
    tools.call("Page.navigate", url=report.as_uri())
    tools.wait_for("Page.loadEventFired")
    tools.drain(0.5)

    def evaluate(expression: str):
        result = tools.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"]["value"]

    # Titled by the query names, one section each.
    names = [r["name"] for r in data]
    assert evaluate("[...document.querySelectorAll('h2')].map(h => h.textContent)") == names
    assert all(n in evaluate("document.title") for n in names)
    # One drawn chart per metric of each query; one path per series, with a point per row.
    charts = evaluate(
        """[...document.querySelectorAll('section')].map(s => [...s.querySelectorAll(
        'figure[data-chart]')].map(f => ({drawn: f.dataset.drawn,
        paths: [...f.querySelectorAll('path.series')].map(p => ({
          label: p.dataset.label, points: (p.getAttribute('d').match(/[ML]/g) || []).length,
          width: p.getBBox().width, height: p.getBBox().height}))})))"""
    )
    for result, section in zip(data, charts, strict=True):
        metrics = [c["name"] for c in result["columns"] if c["role"] == "metric"]
        dims = [c["name"] for c in result["columns"] if c["role"] == "dimension"]
        assert len(section) == len(metrics)
        series = {tuple(row[d] for d in dims) for row in result["rows"]}
        for figure, metric in zip(section, metrics, strict=True):
            assert int(figure["drawn"]) == len(series) == len(figure["paths"])
            drawn = sum(p["points"] for p in figure["paths"])
            assert drawn == sum(1 for row in result["rows"] if row[metric] is not None)
            assert all(p["width"] > 100 for p in figure["paths"])  # across the x axis
    # Each table holds every row.
    row_counts = evaluate(
        "[...document.querySelectorAll('table.result')].map(t => t.tBodies[0].rows.length)"
    )
    assert row_counts == [len(r["rows"]) for r in data]
    # Nothing went wrong, and nothing was fetched.
    errors = [
        e for e in tools.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]  # fmt: skip
    assert errors == []
    fetched = [
        e["params"]["request"]["url"]
        for e in tools.events
        if e.get("method") == "Network.requestWillBeSent"
        and not e["params"]["request"]["url"].startswith("file:")
    ]
    assert fetched == []
    # The picture itself: not blank, and the series colours are there.
    tools.call("Emulation.setDeviceMetricsOverride", width=1100, height=1400,
               deviceScaleFactor=1, mobile=False)  # fmt: skip
    shot = tools.call("Page.captureScreenshot", format="png")
    png = base64.b64decode(shot["data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = {c for _, c in image.getcolors(maxcolors=1 << 24)}
    assert (0x25, 0x63, 0xEB) in colours  # the first series' blue line was painted
    assert len(colours) > 50
    if os.environ.get("QUERYLANG_SCREENSHOT"):
        (ROOT / "docs" / "report.png").write_bytes(png)
    tools.ws.close()
