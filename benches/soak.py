#!/usr/bin/env python3
"""The soak: the demo wall for a long time with faults on a schedule, sampled from the console's
own metrics endpoint (issue 17).

    python3 benches/soak.py --minutes 60            # an hour here (60 simulated hours at 60x)
    python3 benches/soak.py --minutes 4320 --bin /usr/bin/ioc-console   # three days on a wall PC

What runs: `ioc-console sim` (the simulated IOC at 60x simulated time, its ten demo cameras
served over RTSP on loopback, background incidents at `--arrivals` times the demo's rate) and
`ioc-console run` on `layouts/ioc-main.toml` (all ten camera tiles) in a window on its own Xvfb
(or the given DISPLAY), with `--metrics` on loopback. Every `--sample` seconds the script
scrapes /metrics (resident memory, threads, GStreamer pipelines, textures on the GPU, frame
times, datasets, outbox) into samples.csv.

The schedule repeats every 12 minutes of real time (12 simulated hours):
  minute 1-2   the backend answers 500 to everything, the event stream is dropped, and operator
               actions are recorded meanwhile (`ioc-console act` into the console's outbox):
               the outbox fills while the backend is down
  minute 3     malformed bodies
  minute 5     the event stream dropped
  minute 7     three cameras dark (their streams off the air), then back
  minute 9     every answer an endless body
  every 4 min  the layout file rewritten (the wall reloads it)
  every 2 min  an operator action while the backend is up
Each fault lasts `--fault-seconds` (60 by default).

At the end, with the faults off: every recorded action must have left the outbox's pending
state (none lost), the console must still run without a panic, and the summary (summary.md)
says memory growth after the first hour-equivalent (one real minute at 60x), and threads and
pipelines two minutes after each fault against their level before it. rss.svg draws the curve.
Exit status 0 when every target holds, 1 otherwise, 2 when it could not run.
"""

import argparse
import csv
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Samples as {(name, frozenset(labels)): value} from the Prometheus text format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            continue
        labels = frozenset(LABEL_RE.findall(m.group(2) or ""))
        try:
            out[(m.group(1), labels)] = float(m.group(3))
        except ValueError:
            pass
    return out


def get(samples, name, **labels):
    want = set(labels.items())
    for (n, ls), v in samples.items():
        if n == name and want <= set(ls):
            return v
    return None


def total(samples, name, **labels):
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def frame_quantiles(prev, cur):
    """p50 and p95 frame time (ms) of the frames between two scrapes, from the histogram's
    bucket counts (each frame counted at its bucket's upper bound)."""
    buckets = []
    for (n, ls), v in cur.items():
        if n == "ioc_console_frame_seconds_bucket":
            le = dict(ls)["le"]
            before = prev.get((n, ls), 0.0) if prev else 0.0
            buckets.append((float("inf") if le == "+Inf" else float(le), v - before))
    buckets.sort()
    count = buckets[-1][1] if buckets else 0
    if count <= 0:
        return None, None, 0

    def q(p):
        for le, c in buckets:
            if c >= p * count:
                return le * 1000
        return None

    return q(0.5), q(0.95), int(count)


class Soak:
    def __init__(self, args):
        self.args = args
        self.out = args.out
        os.makedirs(self.out, exist_ok=True)
        self.procs = []
        self.events = open(os.path.join(self.out, "events.log"), "w")
        self.actions = []  # (key or None, when, backend state)
        self.sim_port = free_port()
        self.metrics_port = free_port()
        self.base = f"http://127.0.0.1:{self.sim_port}/api/v1"
        self.outbox = os.path.join(self.out, "outbox.sqlite")
        self.layout = os.path.join(self.out, "ioc-main.toml")
        shutil.copyfile(os.path.join(REPO, "layouts", "ioc-main.toml"), self.layout)
        with open(self.layout, encoding="utf-8") as f:
            self.layout_text = f.read()
        self.reloads = 0

    def log(self, what):
        line = f"{dt.datetime.now().isoformat(timespec='seconds')} {what}"
        print(line, flush=True)
        self.events.write(line + "\n")
        self.events.flush()

    def start(self):
        a = self.args
        env = dict(os.environ)
        if not a.display:
            xvfb_n = 300 + os.getpid() % 300
            self.procs.append(subprocess.Popen(
                ["Xvfb", f":{xvfb_n}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            deadline = time.time() + 20
            while not os.path.exists(f"/tmp/.X11-unix/X{xvfb_n}"):
                if time.time() > deadline:
                    raise SystemExit("Xvfb did not start")
                time.sleep(0.1)
            env["DISPLAY"] = f":{xvfb_n}"
        else:
            env["DISPLAY"] = a.display
        env.pop("WAYLAND_DISPLAY", None)
        runtime = os.path.join(self.out, "xdg")
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = runtime
        env["IOC_CONSOLE_OUTBOX"] = self.outbox
        env.setdefault("RUST_LOG", "info")
        self.env = env
        self.sim = subprocess.Popen(
            [a.bin, "--config", "/dev/null", "sim", "--listen", f"127.0.0.1:{self.sim_port}",
             "--speed", str(a.speed), "--arrivals", str(a.arrivals), "--serve-cameras"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.out, "sim.log"), "w"),
            env=env)
        self.procs.append(self.sim)
        self.wait_for(lambda: http("GET", f"{self.base}/units"), "the simulator", 60)
        self.console_err = open(os.path.join(self.out, "console.log"), "w")
        self.console = subprocess.Popen(
            [a.bin, "--config", "/dev/null", "run", "--preview", "--backend", self.base,
             "--layout", self.layout, "--metrics", f"127.0.0.1:{self.metrics_port}"],
            stdout=subprocess.DEVNULL, stderr=self.console_err, env=env)
        self.procs.append(self.console)
        self.wait_for(self.scrape, "the console's metrics", 120)
        self.log(f"started: sim {self.base}, metrics http://127.0.0.1:{self.metrics_port}/metrics")

    def wait_for(self, f, what, seconds):
        deadline = time.time() + seconds
        while True:
            try:
                if f():
                    return
            except Exception:
                pass
            if time.time() > deadline:
                raise SystemExit(f"timed out waiting for {what}")
            time.sleep(0.5)

    def scrape(self):
        return parse_metrics(http("GET", f"http://127.0.0.1:{self.metrics_port}/metrics").decode())

    def faults(self, **f):
        http("POST", self.base.replace("/api/v1", "/sim/faults"), f)
        self.log(f"faults: {f or 'none'}")

    def act(self, backend):
        """An operator action on a current incident, recorded in the console's outbox."""
        try:
            items = json.loads(http("GET", f"{self.base}/incidents"))["items"]
        except Exception:
            items = []
        if not items:
            # The backend is down: act on an incident seen before.
            items = getattr(self, "seen", [])
        else:
            self.seen = items[-50:]
        if not items:
            return
        inc = items[len(self.actions) % len(items)]
        r = subprocess.run(
            [self.args.bin, "--config", "/dev/null", "act", "--backend", self.base,
             "--outbox", self.outbox, "--incident", str(inc["id"]), "--action", "note",
             "--note", f"soak {len(self.actions) + 1}"],
            capture_output=True, text=True, env=self.env, timeout=60)
        m = re.search(r"recorded (\S+)", r.stdout)
        self.actions.append((m.group(1) if m else None, time.time(), backend))
        self.log(f"action {len(self.actions)} ({backend}): {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr.strip()}")

    def reload_layout(self):
        self.reloads += 1
        text = self.layout_text.replace(
            'name = "', f'name = "[{self.reloads}] ', 1) if self.reloads % 2 else self.layout_text
        with open(self.layout + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(self.layout + ".tmp", self.layout)
        self.log(f"layout rewritten ({self.reloads})")

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGINT if p is self.sim else signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


FAULTS = [
    # (minute in the 12-minute cycle, name, faults)
    (1, "500s", {"error_rate": 1.0, "drop_sse": True}),
    (3, "malformed", {"malformed": True}),
    (5, "event stream dropped", {"drop_sse": True}),
    (7, "cameras dark", {"dark_cameras": ["cam-02", "cam-05", "cam-09"]}),
    (9, "endless bodies", {"endless": True}),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--bin", default=None, help="the ioc-console binary (default: target/release, else target/debug)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--speed", type=float, default=60)
    ap.add_argument("--arrivals", type=float, default=20)
    ap.add_argument("--sample", type=float, default=10, help="seconds between scrapes")
    ap.add_argument("--fault-seconds", type=float, default=60)
    ap.add_argument("--display", default=None, help="an X display to use instead of a new Xvfb")
    a = ap.parse_args()
    if a.bin is None:
        for p in ("target/release/ioc-console", "target/debug/ioc-console"):
            if os.path.exists(os.path.join(REPO, p)):
                a.bin = os.path.join(REPO, p)
                break
        else:
            sys.exit("no ioc-console binary: build one (cargo build --release) or give --bin")
    a.out = a.out or os.path.join(REPO, "target", "soak", dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    soak = Soak(a)
    try:
        soak.start()
        return run(soak, a)
    finally:
        soak.stop()


def run(soak, a):
    fields = ["t_s", "sim_hours", "rss_mb", "threads", "pipelines", "camera_textures",
              "egui_textures", "frame_p50_ms", "frame_p95_ms", "frames", "cameras_live",
              "datasets_live", "stream_up", "outbox_pending", "fault"]
    rows = []
    f = open(os.path.join(a.out, "samples.csv"), "w", newline="")
    w = csv.DictWriter(f, fieldnames=fields)
    w.writeheader()
    start = time.time()
    end = start + a.minutes * 60
    prev = None
    fault = None  # (name, started)
    windows = []  # (name, start_t, end_t)
    next_sample = start
    done_minutes = set()
    while time.time() < end:
        try:
            now = time.time()
            t = now - start
            minute = int(t // 60)
            cycle = minute % 12
            if minute not in done_minutes and t - minute * 60 < 5:
                done_minutes.add(minute)
                for at, name, faults in FAULTS:
                    if cycle == at and fault is None:
                        soak.faults(**faults)
                        fault = (name, t)
                if minute % 4 == 2:
                    soak.reload_layout()
                if minute % 2 == 0 and fault is None:
                    soak.act("up")
            if fault and t - fault[1] >= a.fault_seconds:
                soak.faults()
                windows.append((fault[0], fault[1], t))
                fault = None
            if fault and fault[0] == "500s" and int(t) % 15 == 0 and int(t) != getattr(soak, "_last_down_act", -1):
                soak._last_down_act = int(t)
                soak.act("down")
            if soak.console.poll() is not None:
                soak.log(f"the console exited with {soak.console.returncode}")
                break
            if now >= next_sample:
                next_sample += a.sample
                try:
                    cur = soak.scrape()
                except Exception as e:
                    soak.log(f"scrape failed: {e}")
                    continue
                p50, p95, frames = frame_quantiles(prev, cur)
                prev = cur
                row = {
                    "t_s": round(t, 1),
                    "sim_hours": round(t * a.speed / 3600, 2),
                    "rss_mb": round((get(cur, "process_resident_memory_bytes") or 0) / 1e6, 1),
                    "threads": int(get(cur, "process_threads") or 0),
                    "pipelines": int(get(cur, "ioc_console_gstreamer_pipelines") or 0),
                    "camera_textures": int(get(cur, "ioc_console_gpu_textures", kind="camera") or 0),
                    "egui_textures": int(get(cur, "ioc_console_gpu_textures", kind="egui") or 0),
                    "frame_p50_ms": p50,
                    "frame_p95_ms": p95,
                    "frames": frames,
                    "cameras_live": int(total(cur, "ioc_console_camera_state", state="live")),
                    "datasets_live": int(total(cur, "ioc_console_dataset_state", state="live")),
                    "stream_up": int(get(cur, "ioc_console_event_stream_state", state="up") or 0),
                    "outbox_pending": int(get(cur, "ioc_console_outbox_pending") or 0),
                    "fault": fault[0] if fault else "",
                }
                rows.append(row)
                w.writerow(row)
                f.flush()
            time.sleep(0.2)
        except KeyboardInterrupt:
            # Stopped by hand (a run of days ends when someone says so): summarize what ran.
            soak.log("stopped by hand")
            break
    if fault:
        soak.faults()
        windows.append((fault[0], fault[1], time.time() - start))
    # Everything recorded leaves the outbox once the backend is well.
    soak.log("faults off; waiting for the outbox to empty")
    deadline = time.time() + 240
    pending = None
    while time.time() < deadline and soak.console.poll() is None:
        try:
            pending = get(soak.scrape(), "ioc_console_outbox_pending")
        except Exception:
            pending = None
        if pending == 0:
            break
        time.sleep(2)
    alive = soak.console.poll() is None
    return summarize(soak, a, rows, windows, pending, alive)


def summarize(soak, a, rows, windows, pending, alive):
    import sqlite3
    con = sqlite3.connect(soak.outbox)
    states = dict(con.execute("SELECT key, state FROM actions").fetchall())
    con.close()
    recorded = [k for k, _, _ in soak.actions if k]
    lost = [k for k in recorded if k not in states]
    stuck = [k for k in recorded if states.get(k) == "pending"]
    soak.console_err.flush()
    with open(os.path.join(a.out, "console.log"), encoding="utf-8", errors="replace") as f:
        log = f.read()
    panics = log.count("panicked")

    def at(t):
        return min(rows, key=lambda r: abs(r["t_s"] - t)) if rows else None

    first_hour = 3600 / a.speed  # one simulated hour, in real seconds
    base = [r for r in rows if r["t_s"] >= first_hour and not r["fault"]]
    growth = None
    if len(base) >= 2:
        head = base[: max(1, len(base) // 20)]
        tail = base[-max(1, len(base) // 20):]
        m0 = sorted(r["rss_mb"] for r in head)[len(head) // 2]
        m1 = sorted(r["rss_mb"] for r in tail)[len(tail) // 2]
        growth = (m1 - m0) / m0 * 100
    # Threads and pipelines: the level in the minute before each fault against the level
    # 90-150 s after it ended (reconnections and idle worker threads settle by then).
    recover = []
    for name, t0, t1 in windows:
        before = [r for r in rows if t0 - 60 <= r["t_s"] < t0 and not r["fault"]]
        after = [r for r in rows if t1 + 90 <= r["t_s"] <= t1 + 150 and not r["fault"]]
        if not before or not after:
            continue
        med = lambda rs, k: sorted(r[k] for r in rs)[len(rs) // 2]
        recover.append((name, t0, med(before, "threads"), med(after, "threads"),
                        med(before, "pipelines"), med(after, "pipelines")))
    threads_ok = all(ta <= tb + 2 for _, _, tb, ta, _, _ in recover)
    pipes_ok = all(pa <= pb for _, _, _, _, pb, pa in recover)
    p95s = sorted(r["frame_p95_ms"] for r in rows if r["frame_p95_ms"])
    ok = (alive and panics == 0 and not lost and not stuck and pending == 0
          and growth is not None and growth < 5 and threads_ok and pipes_ok)
    write_svg(os.path.join(a.out, "rss.svg"), rows, windows, a)
    lines = [
        f"# Soak: {a.minutes:g} min real time at {a.speed:g}x ({a.minutes * a.speed / 60:g} simulated hours)",
        "",
        f"- binary: `{a.bin}`; incidents at {a.arrivals:g}x the demo's rate; {len(rows)} samples every {a.sample:g} s",
        f"- console alive at the end: {'yes' if alive else 'NO'}; panics in its log: {panics}",
        f"- resident memory: first sample {rows[0]['rss_mb'] if rows else '?'} MB, after the first hour-equivalent "
        f"{base[0]['rss_mb'] if base else '?'} MB, last {rows[-1]['rss_mb'] if rows else '?'} MB; "
        f"growth after the first hour-equivalent {growth:+.2f} % (target < 5 %)" if growth is not None else "- resident memory: too few samples",
        f"- actions recorded: {len(recorded)} ({sum(1 for _, _, b in soak.actions if b == 'down')} while the backend was down); "
        f"lost: {len(lost)}; still pending at the end: {len(stuck)}; outbox pending metric at the end: {pending}",
        f"- layout reloads: {soak.reloads}; faults: {len(windows)}",
        f"- frame time p95 over the run (per-interval p95, median of them): "
        f"{p95s[len(p95s) // 2] if p95s else '?'} ms; worst interval {p95s[-1] if p95s else '?'} ms",
        "",
        "| fault | at (min) | threads before → after | pipelines before → after |",
        "| --- | ---: | --- | --- |",
    ] + [f"| {n} | {t0 / 60:.1f} | {tb} → {ta} | {pb} → {pa} |" for n, t0, tb, ta, pb, pa in recover] + [
        "",
        f"Result: {'PASS' if ok else 'FAIL'}",
    ]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write(text)
    print(text)
    print(f"samples: {os.path.join(a.out, 'samples.csv')}, curve: {os.path.join(a.out, 'rss.svg')}")
    return 0 if ok else 1


def write_svg(path, rows, windows, a):
    """Resident memory and threads over time, fault windows shaded."""
    if len(rows) < 2:
        return
    W, H, L, B = 900, 300, 60, 40
    tmax = rows[-1]["t_s"] or 1
    rmax = max(r["rss_mb"] for r in rows) * 1.1 or 1
    x = lambda t: L + (W - L - 20) * t / tmax
    y = lambda v: H - B - (H - B - 20) * v / rmax
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
             f'<rect width="{W}" height="{H}" fill="white"/>']
    for name, t0, t1 in windows:
        parts.append(f'<rect x="{x(t0):.1f}" y="20" width="{max(1, x(t1) - x(t0)):.1f}" height="{H - B - 20}" fill="#f0e0d0"><title>{name}</title></rect>')
    pts = " ".join(f"{x(r['t_s']):.1f},{y(r['rss_mb']):.1f}" for r in rows)
    parts.append(f'<polyline points="{pts}" fill="none" stroke="#0072B2" stroke-width="1.5"/>')
    for v in range(0, int(rmax) + 1, max(50, int(rmax / 5) // 50 * 50 or 50)):
        parts.append(f'<text x="{L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>')
        parts.append(f'<line x1="{L}" x2="{W - 20}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
    for h in range(0, int(tmax * a.speed / 3600) + 1, 6):
        t = h * 3600 / a.speed
        parts.append(f'<text x="{x(t):.1f}" y="{H - B + 16}" text-anchor="middle">{h} h</text>')
    parts.append(f'<text x="{L}" y="14">Resident memory (MB) over simulated hours; shaded: faults</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    sys.exit(main())
