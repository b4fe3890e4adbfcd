#!/usr/bin/env python3
"""Loads the dashboard page in headless Chromium and checks it.

Usage: check_dashboard.py PAGE.html OUTDIR

Checks, each printed as "ok - ..." or "not ok - ...":
  - the console probe: a page that breaks its own Content-Security-Policy makes Chromium log a
    console message, and this script sees it (so a silent console below means something);
  - the dashboard logs no console message at all (it has no script; a resource it tried to load
    would be a CSP violation, which Chromium logs);
  - the page's DOM, as Chromium built it, has every chart (inline <svg class="chart"> with its
    data-chart name) with data drawn in it, the breaker and alert tables, and no <script>, no
    external reference (src or href attributes, url() in styles);
  - a screenshot is written to OUTDIR/dashboard.png (a PNG of the window's width).
The last line is "N passed, M failed"; the exit status is 0 only when nothing failed.
"""
import html.parser
import os
import re
import struct
import subprocess
import sys

CHARTS = ["throughput", "success_rate", "latency", "wait", "cost_per_task", "budget_burn", "queue"]
WIDTH, HEIGHT = 1280, 1900
CONSOLE = re.compile(r":CONSOLE[:(]")

results = []


def check(ok, what):
    results.append(bool(ok))
    print(("ok - " if ok else "not ok - ") + what)


def chromium(outdir, url, *flags):
    """Runs headless Chromium on url; returns (stdout, console lines from its log)."""
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--hide-scrollbars", "--no-first-run", "--user-data-dir=" + os.path.join(outdir, "profile"),
           "--enable-logging=stderr", "--v=0", "--window-size=%d,%d" % (WIDTH, HEIGHT), *flags, url]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    console = [line for line in run.stderr.splitlines() if CONSOLE.search(line)]
    return run.returncode, run.stdout, console


class Dom(html.parser.HTMLParser):
    """Collects the charts, the marks drawn in each, tables, scripts and external references."""

    def __init__(self):
        super().__init__()
        self.charts = {}
        self.current = None
        self.tables = 0
        self.scripts = 0
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "chart" in (a.get("class") or "").split():
            self.current = a.get("data-chart")
            self.charts[self.current] = 0
        elif self.current and "mark" in (a.get("class") or "").split():
            self.charts[self.current] += 1  # a bar, a point or a line drawn from data
        if tag == "table":
            self.tables += 1
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            if name in a:
                self.external.append("%s=%s" % (name, a[name]))
        if re.search(r"url\s*\(", a.get("style") or ""):
            self.external.append("style url()")

    def handle_endtag(self, tag):
        if tag == "svg":
            self.current = None


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def main():
    page, outdir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(outdir, exist_ok=True)

    probe = os.path.join(outdir, "console_probe.html")
    with open(probe, "w") as f:
        f.write('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                "content=\"default-src 'none'\"></head><body>"
                '<img src="https://example.invalid/probe.png"></body></html>')
    _, _, console = chromium(outdir, "file://" + probe, "--dump-dom")
    check(console, "the console probe: a CSP violation is seen in Chromium's console log")

    rc, dom_text, console = chromium(outdir, "file://" + page, "--dump-dom")
    check(rc == 0 and "</html>" in dom_text, "Chromium loads the dashboard (exit %d)" % rc)
    check(not console, "no console message while loading the dashboard"
          + "".join("\n    " + line for line in console))
    with open(os.path.join(outdir, "dashboard.dom.html"), "w") as f:
        f.write(dom_text)

    dom = Dom()
    dom.feed(dom_text)
    for name in CHARTS:
        check(name in dom.charts, "chart %s is present" % name)
        check(dom.charts.get(name, 0) > 0,
              "chart %s has data drawn (%d marks)" % (name, dom.charts.get(name, 0)))
    check(sorted(dom.charts) == sorted(CHARTS), "exactly the expected charts: %s" % sorted(dom.charts))
    check(dom.tables >= 3, "the breaker, alert and health tables are present (%d tables)" % dom.tables)
    check(dom.scripts == 0, "no <script> element")
    check(not dom.external, "no external reference: %s" % dom.external)

    shot = os.path.join(outdir, "dashboard.png")
    if os.path.exists(shot):
        os.remove(shot)
    rc, _, console = chromium(outdir, "file://" + page, "--screenshot=" + shot)
    size = png_size(shot) if os.path.exists(shot) else None
    check(rc == 0 and size is not None and size[0] == WIDTH,
          "screenshot written to %s (%s)" % (shot, "x".join(map(str, size or ()))))
    check(not console, "no console message while taking the screenshot")

    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
