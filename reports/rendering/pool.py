"""A few render worker processes (``reports.rendering.worker``) fed one job at a time.

The parent keeps the queue: whenever a worker answers, it gets the next job, the most costly
first. A worker that drew cheap parts therefore takes more of them, and the wall time is
close to the total work divided by the number of workers, whatever the estimates got wrong.
Plain subprocesses, so this also works inside a daemonic Celery worker.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from reports.rendering.errors import RenderFailed


def _killed(signum: int) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    if signum == signal.SIGKILL:  # what the kernel's out-of-memory killer sends
        return (
            f"it was killed ({name}), most likely for lack of memory: ask your administrator "
            "to give the report worker more memory or lower REPORT_PDF_WORKERS"
        )
    return f"it was stopped by {name}"


@dataclass
class Job:
    name: str
    html: Path
    pdf: Path
    cost: float = 1.0  # estimated, only to hand out the costly jobs first
    result: dict = field(default_factory=dict)  # the worker's answer

    @property
    def pages(self) -> int:
        return self.result.get("pages", 0)


class Pool:
    def __init__(self, size: int, static_root: Path):
        env = {**os.environ, "PYTHONPATH": str(settings.BASE_DIR)}
        self.events: queue.Queue = queue.Queue()
        self.procs = [
            subprocess.Popen(  # noqa: S603 (our own interpreter and module, no user input)
                [sys.executable, "-m", "reports.rendering.worker", str(static_root)],
                cwd=str(settings.BASE_DIR),
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(max(1, size))
        ]
        # The last lines each worker wrote to stderr (a traceback, say),
        # read as they come: a full pipe would stop the worker.
        self.stderr: list[deque[str]] = [deque(maxlen=5) for _ in self.procs]
        self.drains = [
            threading.Thread(target=self._drain, args=(n, proc), daemon=True)
            for n, proc in enumerate(self.procs)
        ]
        self.threads = [
            threading.Thread(target=self._read, args=(n, proc), daemon=True)
            for n, proc in enumerate(self.procs)
        ]
        for thread in [*self.drains, *self.threads]:
            thread.start()
        self.peak_kb = 0
        self.refused: list[str] = []

    def _read(self, n: int, proc: subprocess.Popen) -> None:
        """Reader thread of worker ``n``: one JSON line per finished job, then its exit."""
        try:
            for line in proc.stdout or ():
                self.events.put(("done", n, json.loads(line)))
        except Exception as exc:  # a garbled line: report it rather than leave the parent waiting
            self.events.put(("exit", n, f"unreadable worker output ({type(exc).__name__})"))
            return
        code = proc.wait()
        if code < 0:  # killed: its stderr (warnings, say) does not tell why
            self.events.put(("exit", n, _killed(-code)))
            return
        self.drains[n].join(timeout=5)  # its last lines say why it stopped
        last = [line for line in self.stderr[n] if line.strip()][-1:] or [f"exit status {code}"]
        self.events.put(("exit", n, last[0].strip()[:300]))

    def _drain(self, n: int, proc: subprocess.Popen) -> None:
        for line in proc.stderr or ():
            self.stderr[n].append(line)

    def run(self, jobs: Sequence[Job], done: Callable[[Job], None] | None = None) -> None:
        """Lay out every job, the most costly first; ``done`` is called as each finishes."""
        pending = sorted(jobs, key=lambda job: -job.cost)
        busy: dict[int, Job] = {}

        def hand_out(n: int) -> None:
            if pending:
                job = busy[n] = pending.pop(0)
                line = json.dumps({"html": str(job.html), "pdf": str(job.pdf)}) + "\n"
                try:
                    self.procs[n].stdin.write(line)  # type: ignore[union-attr]
                    self.procs[n].stdin.flush()  # type: ignore[union-attr]
                except OSError:
                    raise RenderFailed("a render worker stopped before its job") from None

        for n in range(len(self.procs)):
            hand_out(n)
        while busy:
            try:
                kind, n, payload = self.events.get(timeout=settings.REPORT_TASK_TIME_LIMIT)
            except queue.Empty:
                raise RenderFailed("the render workers stopped answering") from None
            if kind == "exit":
                raise RenderFailed(f"a render worker failed: {payload}")
            job = busy.pop(n)
            job.result = payload
            self.refused.extend(payload.get("refused", []))
            self.peak_kb = max(self.peak_kb, payload.get("max_rss_kb", 0))
            if done:
                done(job)
            hand_out(n)

    def close(self) -> None:
        for proc in self.procs:
            try:
                if proc.stdin:
                    proc.stdin.close()  # end of jobs: the worker exits
            except OSError:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for thread in [*self.threads, *self.drains]:
            thread.join(timeout=5)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            for proc in self.procs:
                if proc.poll() is None:
                    proc.kill()
        self.close()
