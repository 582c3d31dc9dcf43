"""The worst spreadsheet an NCP can send inside the limits, through the real `pmm-bot run`
process on loopback: a /template-made workbook whose shared-string table holds millions of
empty strings (38 million: 190 MB declared, about 300 KB sent). Measured in one run:

- the time until the sender gets an answer (a refusal or a summary);
- another NCP's /template sent while the file is read (a second after the sender is told
  "Reading your file…"): its wait, against the same /template
  with nothing else running;
- the peak memory of all the bot's processes (resident set size of the bot and every process
  under it, sampled every 20 ms), against the same processes before the file.

    python -m bench.upload_bomb [--strings 38000000] [--undeclared] [--limit 600]
    python -m bench.upload_bomb --rows 99000   # instead, an honest file read to its end

Targets (issue 23): the other NCP's /template under 5 s; peak memory under 500 MB.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

from bot.emulator import FakeBotApi
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import Member
from pmm_core.domain.records import Cycle
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.spreadsheet import build_template, xlsx
from pmm_core.storage.store import Store

ROOT = Path(__file__).resolve().parents[1]
SENDER, OTHER = 5001, 5002
PAGE = 4096
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SST_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
SST_REL = (
    b'<Relationship Id="rIdBomb" Target="sharedStrings.xml" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
)


def bomb(cycle: Cycle, strings: int, declared: bool = True) -> bytes:
    """Belgium's template (which writes its text inline) with a shared-string table of
    `strings` empty strings (``<si/>``: 5 bytes each, deflated about 1,000:1), declared in the
    content types and the workbook's relationships as a spreadsheet program would; with
    `declared` False the table does not say how many strings it holds (they are counted)."""
    template = build_template(load_catalog(), Member("BE", "eur"), cycle, {}, {}, lang("en"))
    source = zipfile.ZipFile(io.BytesIO(template))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                content = content.replace(b"</Types>", SST_TYPE + b"</Types>")
            elif info.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(b"</Relationships>", SST_REL + b"</Relationships>")
            target.writestr(info, content)
        strings_part = zipfile.ZipInfo("xl/sharedStrings.xml", (2025, 1, 1, 0, 0, 0))
        strings_part.compress_type = zipfile.ZIP_DEFLATED
        with target.open(strings_part, "w", force_zip64=True) as part:
            counts = f' count="{strings}" uniqueCount="{strings}"' if declared else ""
            part.write(f'<sst xmlns="{MAIN}"{counts}>'.encode())
            chunk = b"<si/>" * PAGE
            for _ in range(strings // PAGE):
                part.write(chunk)
            part.write(b"<si/>" * (strings % PAGE) + b"</sst>")
    return out.getvalue()


def honest(cycle: Cycle, rows: int) -> bytes:
    """Belgium's template with `rows` declarations on the TF-04 list: a long file a reader must
    read to the end (written as XML, as a spreadsheet program writes it)."""
    template = build_template(load_catalog(), Member("BE", "eur"), cycle, {}, {}, lang("en"))
    part = next(s.part for s in xlsx.Workbook(template).sheets if s.name == "TF-04")
    source = zipfile.ZipFile(io.BytesIO(template))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == part:
                lines = "".join(
                    f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>D{r}</t></is></c><c r="B{r}"><v>{30 + r % 240}</v></c></row>'
                    for r in range(3, rows + 3)
                )
                content = re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", content)
                content = content.replace(b"</sheetData>", lines.encode() + b"</sheetData>")
            target.writestr(info, content)
    return out.getvalue()


def seed(db: Path) -> Cycle:
    store = Store.open(db)
    store.import_members([Member("BE", "eur"), Member("FR", "eur")])
    cycle = store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    for user, member in ((SENDER, "BE"), (OTHER, "FR")):
        store.touch_user(user, f"NCP {member}", "en")
        store.redeem_invite(store.create_invite(member, timedelta(days=1)), user)
    store.close()
    return cycle


def start_bot(base_url: str, db: Path, cwd: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMM_")} | {
        "PYTHONPATH": str(ROOT),  # this checkout's code, not the one the environment has installed
        "PMM_BOT_TOKEN": "123456:BENCH",
        "PMM_API_BASE_URL": base_url,
        "PMM_DB_PATH": str(db),
        "PMM_LOG_LEVEL": "WARNING",
    }
    with open(cwd / "bot.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=cwd, stdout=log, stderr=log)


# ---- memory of a process tree ------------------------------------------------------------------


def tree(root: int) -> list[int]:
    """`root` and every process under it (from /proc's parent ids)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def rss(pid: int) -> int:
    """Resident set size in bytes (0 for a process that is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Samples the summed RSS of a process tree until stopped; keeps the peak."""

    def __init__(self, root: int, every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.peak = 0
        self.peak_parts: dict[int, int] = {}
        self.processes: set[int] = set()
        self._done = threading.Event()

    def sample(self) -> tuple[int, dict[int, int]]:
        parts = {pid: rss(pid) for pid in tree(self.root)}
        self.processes |= set(parts)
        return sum(parts.values()), parts

    def run(self) -> None:
        while not self._done.is_set():
            total, parts = self.sample()
            if total > self.peak:
                self.peak, self.peak_parts = total, parts
            time.sleep(self.every)

    def stop(self) -> None:
        self._done.set()
        self.join()


# ---- the run -----------------------------------------------------------------------------------


def wait_for(api: FakeBotApi, user: int, after: int, done: object, limit: float) -> float:
    """Waits for a message to `user` newer than the first `after` for which `done(sent)` holds;
    returns the monotonic time it was received (raises after `limit` seconds)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for sent in api.messages_to(user)[after:]:
            if done(sent):  # type: ignore[operator]
                return time.monotonic()
        time.sleep(0.005)
    raise TimeoutError(f"nothing after {limit:.0f} s; last: {api.messages_to(user)[-1].text[:200]!r}")


def template(api: FakeBotApi, user: int, limit: float) -> float:
    """Seconds from /template to the document."""
    before = len(api.messages_to(user))
    start = time.monotonic()
    api.message(user, "/template")
    return wait_for(api, user, before, lambda s: s.method == "sendDocument", limit) - start


def main(strings: int, limit: float, delay: float, declared: bool, rows: int) -> None:
    mib = 2**20
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "pmm.sqlite3"
        cycle = seed(db)
        data = honest(cycle, rows) if rows else bomb(cycle, strings, declared)
        unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
        count = "declared" if declared else "not declared"
        what = f"{rows:,} list rows" if rows else f"{strings:,} empty strings ({count})"
        print(f"file: {len(data) / 1024:.0f} KiB sent, {unpacked / mib:.0f} MiB unpacked, {what}")
        api = FakeBotApi()
        bot = start_bot(api.serve(), db, Path(tmp))
        try:
            template(api, SENDER, 60)  # starts the worker process(es)
            idle = min(template(api, OTHER, 60) for _ in range(3))
            time.sleep(1)
            sampler = Sampler(bot.pid)
            before, parts = sampler.sample()
            print(f"before the file: {before / mib:.0f} MiB in {len(parts)} processes; /template alone {idle:.2f} s")
            sampler.start()
            sent_before = len(api.messages_to(SENDER))
            start = time.monotonic()
            api.document(SENDER, "figures.xlsx", data)
            wait_for(api, SENDER, sent_before, lambda s: "Reading your file" in s.text, limit)
            read_at = len(api.messages_to(SENDER))
            time.sleep(delay)  # the file is downloaded and handed to the worker by then
            wait = template(api, OTHER, limit)
            answered = wait_for(api, SENDER, read_at, lambda s: True, limit) - start
            sampler.stop()
            reply = api.messages_to(SENDER)[-1].text.replace("\n", " ")
            print(f"the sender's answer after {answered:.1f} s: {reply[:160]!r}")
            print(f"another NCP's /template meanwhile: {wait:.2f} s (alone: {idle:.2f} s)")
            print(
                f"peak memory of the bot's processes: {sampler.peak / mib:.0f} MiB "
                f"({', '.join(f'{p}: {v / mib:.0f}' for p, v in sorted(sampler.peak_parts.items()))}); "
                f"{len(sampler.processes)} processes seen"
            )
            after = template(api, SENDER, 60)
            print(f"the sender's /template afterwards: {after:.2f} s; bot still running: {bot.poll() is None}")
        finally:
            bot.terminate()
            try:
                bot.wait(timeout=20)
            except subprocess.TimeoutExpired:
                bot.kill()
            api.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strings", type=int, default=38_000_000)
    parser.add_argument("--limit", type=float, default=600, help="seconds to wait for an answer")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between the file and the other /template")
    parser.add_argument("--undeclared", action="store_true", help="the table does not give its count")
    parser.add_argument("--rows", type=int, default=0, help="instead: an honest file of this many list rows")
    args = parser.parse_args()
    main(args.strings, args.limit, args.delay, not args.undeclared, args.rows)
