"""The ``pmm-bot`` command: run the bot, the terminal demo, and the admin tasks.

pmm-bot run                       long polling against Telegram (PMM_BOT_TOKEN)
pmm-bot demo                      chat with the real bot in this terminal, no token needed
pmm-bot init-db                   create or upgrade the database
pmm-bot members import [CSV]      load WCO Members (default: the shipped list)
pmm-bot cycle open --year YEAR --deadline YYYY-MM-DD     (tells every NCP)
pmm-bot cycle close [--yes] · cycle reopen --year YEAR [--deadline YYYY-MM-DD] [--yes]
pmm-bot invite BE                 a single-use NCP invite code and its t.me link
pmm-bot import --year 2024 FILE   bring in a past cycle from a workbook (the export's layout), closed
pmm-bot catalog check             validate the KPI catalog files and print counts
pmm-bot backup [--out FILE]       a consistent copy of the database, while the bot runs
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.logs import setup_logging
from bot.settings import Settings, SettingsError, load_settings
from pmm_core import jobs
from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import DEFAULT_CSV, MemberFileError, read_members
from pmm_core.catalog.members.groupings import GROUPS, Grouping
from pmm_core.catalog.models import CatalogError
from pmm_core.domain import actions
from pmm_core.domain.actions import ChangeSet
from pmm_core.domain.analytics import member_statuses
from pmm_core.domain.records import Cycle, CycleState, MemberState, Role
from pmm_core.outputs.i18n import CatalogMissing
from pmm_core.storage.base import Outcome
from pmm_core.storage.db import StoreVersionError, backup, make_private_dir, write_private
from pmm_core.storage.store import Store


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pmm-bot", description="WCO PMM data collection in Telegram.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (long polling)")
    demo = sub.add_parser("demo", help="chat with the bot in this terminal, against a local Bot API emulator")
    demo.add_argument("--db", type=Path, default=Path("pmm-demo.sqlite3"), help="demo database file")
    demo.add_argument("--language", default="en", choices=("en", "fr", "es"))
    demo.add_argument(
        "--sample",
        action="store_true",
        help="start with synthetic data of ~30 Members (two cycles) to explore the reports",
    )
    sub.add_parser("init-db", help="create or upgrade the database")
    members = sub.add_parser("members", help="WCO Members")
    members_sub = members.add_subparsers(dest="action", required=True)
    imp = members_sub.add_parser("import", help="import Members from a CSV")
    imp.add_argument("csv", nargs="?", type=Path, default=DEFAULT_CSV)
    cycle = sub.add_parser("cycle", help="collection cycles")
    cycle_sub = cycle.add_subparsers(dest="action", required=True)
    opening = cycle_sub.add_parser("open", help="open the cycle for a reference year")
    opening.add_argument("--year", type=int, required=True)
    opening.add_argument("--deadline", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    opening.add_argument("--opens", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    redate = cycle_sub.add_parser("deadline", help="change the open cycle's deadline")
    redate.add_argument("deadline", type=date.fromisoformat, help="YYYY-MM-DD")
    closing = cycle_sub.add_parser("close", help="close the open cycle (lists who has not submitted, asks to confirm)")
    closing.add_argument("--yes", action="store_true", help="do not ask to confirm")
    reopening = cycle_sub.add_parser("reopen", help="reopen a closed cycle (asks to confirm)")
    reopening.add_argument("--year", type=int, required=True)
    reopening.add_argument("--deadline", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: its own)")
    reopening.add_argument("--yes", action="store_true", help="do not ask to confirm")
    reopen = sub.add_parser("reopen", help="reopen a Member's submitted answers for edits")
    reopen.add_argument("member", help="ISO 3166 alpha-2 code, e.g. BE")
    ncps = sub.add_parser("ncps", help="list the NCPs (of one Member)")
    ncps.add_argument("member", nargs="?", default=None, help="ISO 3166 alpha-2 code")
    unbind = sub.add_parser("unbind", help="revoke an NCP's access")
    unbind.add_argument("telegram_id", type=int)
    exporting = sub.add_parser("export", help="write a cycle's data as XLSX (or CSV)")
    exporting.add_argument("--year", type=int, default=None, help="reference year (default: the open or latest cycle)")
    exporting.add_argument("--out", type=Path, default=None, help="file to write (default: pmm-<year>.xlsx)")
    exporting.add_argument("--csv", action="store_true", help="the data points as CSV instead")
    exporting.add_argument("--language", default="en", choices=("en", "fr", "es"), help="column headers")
    report = sub.add_parser("report", help="write the cycle report: report.html and report.xlsx")
    report.add_argument("--year", type=int, default=None, help="reference year (default: the open or latest cycle)")
    report.add_argument("--output", type=Path, default=Path("."), help="folder to write into")
    report.add_argument("--language", default="en", choices=("en", "fr", "es"))
    report.add_argument("--margin", type=int, default=10, choices=(10, 5), help="margin of error for breakdowns, %%")
    report.add_argument("--started", action="store_true", help="count Members that started, not only submitted")
    report.add_argument(
        "--reviewed-apart",
        action="store_true",
        help="each KPI's result over the peer-reviewed Members too (suppressed where it would give a figure away)",
    )
    publishing = sub.add_parser("publish", help="publish a cycle's report for one audience, as a record")
    publishing.add_argument("--year", type=int, default=None, help="reference year (default: the open or latest cycle)")
    publishing.add_argument("--audience", required=True, choices=("public", "wco", "secretariat"))
    publishing.add_argument(
        "--stage", choices=("provisional", "final"), default=None, help="default: final once closed"
    )
    publishing.add_argument(
        "--gate",
        choices=("exclude", "include", "mark"),
        default=None,
        help="figures under review (default by audience)",
    )
    publishing.add_argument("--started", action="store_true", help="Members that started (Secretariat only)")
    publishing.add_argument(
        "--reviewed-apart",
        action="store_true",
        help="each KPI's result over the peer-reviewed Members too (suppressed where it would give a figure away)",
    )
    publishing.add_argument("--output", type=Path, default=Path("."), help="folder to write the files into")
    member = sub.add_parser("member", help="show or set a Member's groupings")
    member.add_argument("member", help="ISO 3166 alpha-2 code")
    member.add_argument("field", nargs="?", choices=("type", "geo", "income", "region"))
    member.add_argument("code", nargs="?")
    invite = sub.add_parser("invite", help="create a single-use NCP invite for a Member")
    invite.add_argument("member", help="ISO 3166 alpha-2 code, e.g. BE")
    invite.add_argument("--days", type=int, default=None, help="validity in days (default PMM_INVITE_DAYS)")
    invite.add_argument("--bot", default=None, help="bot username for the t.me link")
    importing = sub.add_parser(
        "import", help="bring in a past cycle from a workbook in the export's layout; the cycle is closed"
    )
    importing.add_argument("--year", type=int, required=True, help="the reference year of the cycle in the file")
    importing.add_argument(
        "file", type=Path, help="an XLSX workbook (an export, or Member/data point/value/KPI/status)"
    )
    catalog = sub.add_parser("catalog", help="the KPI catalog")
    catalog.add_argument("action", choices=("check",))
    backup = sub.add_parser("backup", help="a consistent copy of the database (safe while the bot runs)")
    backup.add_argument("--out", type=Path, default=None, help="file to write (default: pmm-backup-<time>.sqlite3)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        setup_logging(settings.log_level, settings.secrets())
        if args.command == "run":
            return run(settings)
        if args.command == "demo":
            from bot.demo import run_demo

            logging.getLogger().setLevel(logging.WARNING)  # the terminal is the chat
            return run_demo(args.db, args.language, args.sample)
        if args.command == "catalog":
            return catalog_check()
        return _admin(args, settings)
    except SettingsError as exc:
        print(f"pmm-bot: {exc}", file=sys.stderr)
        return 2
    except (CatalogError, CatalogMissing, MemberFileError, StoreVersionError, ValueError) as exc:
        print(f"pmm-bot: {exc}", file=sys.stderr)
        return 1


WEBHOOK_PATH = "telegram"


def run(settings: Settings) -> int:
    """Long polling, or a webhook when PMM_WEBHOOK_URL is set, until SIGINT/SIGTERM; PTB
    stops cleanly on either."""
    from telegram import Update

    from bot.app import build_application

    webhook = settings.webhook()
    app = build_application(settings, load_catalog())
    # what the handlers read: Telegram need not send channel posts, polls, reactions…
    wanted = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
    if webhook is None:
        app.run_polling(allowed_updates=wanted)
        return 0
    url, secret = webhook
    app.run_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=WEBHOOK_PATH,
        webhook_url=f"{url}/{WEBHOOK_PATH}",
        secret_token=secret,
        allowed_updates=wanted,
    )
    return 0


def catalog_check() -> int:
    started = time.perf_counter()
    catalog = load_catalog()
    elapsed = time.perf_counter() - started
    per_dimension = Counter(k.dimension for k in catalog.kpis)
    shared = [dp for dp in catalog.data_points if len(catalog.kpis_using(dp)) > 1]
    print(f"{len(catalog.kpis)} KPIs: " + ", ".join(f"{d} {n}" for d, n in per_dimension.items()))
    print(f"{len(catalog.outcomes)} expected outcomes, {len(catalog.data_points)} data points ({len(shared)} shared)")
    print(
        f"{len(catalog.tools)} WCO tools, {len(catalog.blank_reasons)} blank reasons; loaded in {elapsed * 1000:.0f} ms"
    )
    return 0


def _admin(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "backup":
        out = args.out or Path(f"pmm-backup-{datetime.now(UTC):%Y%m%d-%H%M%S}.sqlite3")
        backup(settings.db_path, out)
        print(f"wrote {out} (readable by you only); restore: stop the bot, copy it over {settings.db_path}")
        return 0
    store = Store.open(settings.db_path)
    try:
        if args.command == "init-db":
            print(f"database {settings.db_path} at schema version {store.schema_version()}")
        elif args.command == "members":
            count = store.import_members(read_members(args.csv))
            print(f"imported {count} Members from {args.csv}")
        elif args.command == "cycle":
            return _cycle(args, settings, store)
        elif args.command == "reopen":
            cycle = _open_cycle(store)
            changes = actions.reopen_submission(ChangeSet(0, cycle.id, args.member.upper()))
            done = store.apply(changes) is Outcome.APPLIED
            print(
                f"{args.member.upper()} reopened"
                if done
                else f"{args.member.upper()} has not submitted; nothing to reopen"
            )
        elif args.command == "export":
            return _export(args, store)
        elif args.command == "import":
            return _import(args, store)
        elif args.command == "report":
            return _report(args, store)
        elif args.command == "member":
            return _member(args, store)
        elif args.command == "publish":
            return _publish(args, store)
        elif args.command == "ncps":
            for ncp in store.users(role=Role.NCP, member=args.member.upper() if args.member else None):
                state = "active" if ncp.active else "inactive (blocked the bot)"
                print(f"{ncp.telegram_id}\t{ncp.member}\t{ncp.language}\t{ncp.last_seen}\t{state}\t{ncp.name}")
        elif args.command == "unbind":
            unbound = store.unbind_ncp(args.telegram_id)
            print(f"NCP {args.telegram_id} of {unbound} revoked" if unbound else f"{args.telegram_id} is not an NCP")
        elif args.command == "invite":
            member = store.member(args.member)
            if member is None:
                print(
                    f"pmm-bot: unknown Member {args.member!r}; import Members first (pmm-bot members import)",
                    file=sys.stderr,
                )
                return 1
            days = args.days or settings.invite_days
            code = store.create_invite(member.iso2, timedelta(days=days))
            bot = args.bot or "<bot>"
            print(f"invite for {member.name('en')} ({member.iso2}), valid {days} days: {code}")
            print(f"https://t.me/{bot}?start={code}")
    finally:
        store.close()
    return 0


def _open_cycle(store: Store) -> Cycle:
    cycle = store.current_cycle()
    if cycle is None:
        raise ValueError("no cycle is open (pmm-bot cycle open --year YEAR --deadline YYYY-MM-DD)")
    return cycle


def _cycle(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    """Opens, re-dates, closes or reopens a cycle; opening, closing and reopening tell the
    NCPs through the outbox (a running bot sends the messages within a second)."""
    from conversations.admin import news as cycle_news

    if args.action == "open":
        news = cycle_news.opened(store, args.year, args.deadline)
        cycle = store.open_cycle(args.year, args.deadline, args.opens, reminder_days=settings.reminder_days, news=news)
        print(
            f"cycle {cycle.year} open from {cycle.opens} to {cycle.deadline}; reminders {cycle.reminder_days} days before"
        )
        print(f"{len(news)} NCPs will be told (by the running bot)")
    elif args.action == "deadline":
        cycle = _open_cycle(store)
        store.set_deadline(cycle.id, args.deadline)
        print(
            f"cycle {cycle.year}: deadline {args.deadline} (a running bot reschedules its reminders within 15 minutes)"
        )
    elif args.action == "close":
        cycle = _open_cycle(store)
        statuses = member_statuses(load_catalog(), store.cycle_data(cycle.id))
        pending = [r for r in statuses if r.state is not MemberState.SUBMITTED]
        print(
            f"cycle {cycle.year}: {len(statuses) - len(pending)} of {len(statuses)} Members with an NCP or data submitted"
        )
        for state in (MemberState.IN_PROGRESS, MemberState.NOT_STARTED):
            names = sorted(r.member.name("en") for r in pending if r.state is state)
            if names:
                print(f"not submitted, {state.value.replace('_', ' ')} ({len(names)}): {', '.join(names)}")
        if not _confirmed(args.yes, f"Close the {cycle.year} cycle? No answer can be changed afterwards."):
            return 1
        news = cycle_news.closed(store, cycle.id, cycle.year)
        store.close_cycle(cycle.id, news=news)
        print(f"cycle {cycle.year} closed; {len(news)} NCPs will be told (by the running bot)")
    else:
        found = store.cycle_of_year(args.year)
        if found is None:
            raise ValueError(f"no cycle for {args.year}")
        deadline = args.deadline or found.deadline
        submitted = len(store.submitted_members(found.id))
        print(f"cycle {found.year}: {submitted} Members submitted; their answers stay submitted")
        if not _confirmed(args.yes, f"Reopen the {found.year} cycle until {deadline}?"):
            return 1
        news = cycle_news.reopened(store, found.id, found.year, deadline)
        store.reopen_cycle(found.id, deadline, news=news)
        print(f"cycle {found.year} open again until {deadline}; {len(news)} NCPs will be told (by the running bot)")
    return 0


def _confirmed(yes: bool, question: str) -> bool:
    """--yes, or "y" typed at a terminal; without a terminal, nothing is done."""
    if yes:
        return True
    if not sys.stdin.isatty():
        print(f"pmm-bot: {question} Add --yes to confirm; nothing was changed.", file=sys.stderr)
        return False
    if input(f"{question} [y/N] ").strip().lower() in ("y", "yes"):
        return True
    print("nothing was changed")
    return False


def _member(args: argparse.Namespace, store: Store) -> int:
    found = store.member(args.member)
    if found is None:
        raise ValueError(f"unknown Member {args.member!r}")
    if args.field:
        fields = {
            "type": Grouping.ADMINISTRATION,
            "geo": Grouping.GEOGRAPHY,
            "income": Grouping.INCOME,
            "region": Grouping.REGION,
        }
        grouping = fields[args.field]
        if args.code not in GROUPS[grouping]:
            raise ValueError(f"{args.field} must be one of: {', '.join(GROUPS[grouping])}")
        found = store.set_member_profile(found.iso2, 0, {grouping.value: args.code})
    for grouping in Grouping:
        print(f"{grouping.value}\t{found.group(grouping) or '-'}")
    return 0


def _cycle_for(store: Store, year: int | None) -> Cycle:
    """The cycle of `year`, else the open one, else the latest."""
    cycle = store.cycle_of_year(year) if year else store.current_cycle() or store.latest_cycle()
    if cycle is None:
        raise ValueError(
            f"no cycle for {year}" if year else "no cycle yet (pmm-bot cycle open --year YEAR --deadline YYYY-MM-DD)"
        )
    return cycle


def _export(args: argparse.Namespace, store: Store) -> int:
    cycle = _cycle_for(store, args.year)
    if args.csv:
        data = jobs.export_csv(store.path, cycle.id, args.language)
    else:
        data = jobs.export_xlsx(store.path, cycle.id, args.language, datetime.now(UTC))
    out = args.out or Path(f"pmm-{cycle.year}.{'csv' if args.csv else 'xlsx'}")
    write_private(out, data)
    store.log_action(None, "export", str(out))
    print(f"wrote {out} ({len(data)} bytes, readable by you only)")
    return 0


def _import(args: argparse.Namespace, store: Store) -> int:
    """Reads the whole workbook, refuses it with every problem listed, or writes the closed
    cycle in one transaction."""
    from pmm_core.outputs.cycle_import import ImportRefused, describe, read_cycle

    if store.cycle_of_year(args.year) is not None:
        raise ValueError(f"a cycle for {args.year} already exists; nothing was imported")
    content = args.file.read_bytes()
    source = f"import:{args.file.name[:100]} sha256:{hashlib.sha256(content).hexdigest()[:16]}"
    try:
        data = read_cycle(load_catalog(), store.members(), content, args.year, source, store.now())
    except ImportRefused as refused:
        print(f"pmm-bot: {args.file} was not imported: {refused}", file=sys.stderr)
        return 1
    store.import_cycle(data)
    print(f"imported {describe(data)}; the cycle is closed")
    return 0


def _report(args: argparse.Namespace, store: Store) -> int:
    cycle = _cycle_for(store, args.year)
    files = jobs.report_files(
        store.path,
        cycle.id,
        args.language,
        0.05 if args.margin == 5 else 0.10,
        args.started,
        date.today(),
        args.reviewed_apart,
    )
    make_private_dir(args.output)
    for name, data in files.files:
        target = args.output / ("report.html" if name.endswith(".html") else "report.xlsx")
        write_private(target, data)
        print(f"wrote {target} ({len(data)} bytes)")
    store.log_action(None, "report", str(cycle.year))
    return 0


def _publish(args: argparse.Namespace, store: Store) -> int:
    """Lists the figures under review, publishes, writes the files, announces to the NCPs (for all
    NCPs: through the outbox, which the running bot sends)."""
    from conversations.benchmark.announce import announcement
    from pmm_core.domain.analysis import Basis
    from pmm_core.publishing import DEFAULT_DECISION, Decision, PopulationRefused, PubAudience, Stage, publish
    from pmm_core.publishing.gate import gate_items

    cycle = _cycle_for(store, args.year)
    audience = PubAudience(args.audience)
    is_open = cycle.state is CycleState.OPEN
    stage = Stage(args.stage) if args.stage else (Stage.PROVISIONAL if is_open else Stage.FINAL)
    if is_open and stage is Stage.FINAL:
        print(f"pmm-bot: the {cycle.year} cycle is still open: only a provisional publication", file=sys.stderr)
        return 1
    catalog = load_catalog()
    items = gate_items(catalog, store.cycle_data(cycle.id))
    decision = Decision(args.gate) if args.gate else DEFAULT_DECISION[audience]
    print(f"{len(items)} figure(s) under review; {decision.value}:")
    for item in items:
        print(f"  {item.member}\t{','.join(item.kpis)}\t{item.kind.value}\t{item.detail}")
    try:
        pub_id, built = publish(
            store,
            catalog,
            cycle.id,
            audience,
            stage,
            date.today(),
            decision,
            basis=Basis.STARTED if args.started else Basis.SUBMITTED,
            reviewed_apart=args.reviewed_apart,
        )
    except PopulationRefused:
        print("pmm-bot: --started is for the Secretariat's own publications only", file=sys.stderr)
        return 1
    args.output.mkdir(parents=True, exist_ok=True)
    for named in built.files.values():
        for name, data in named:
            write_private(args.output / name, data)
            print(f"wrote {args.output / name} ({len(data)} bytes)")
    cells: dict[str, int] = {}
    for cell in built.publication.cells:
        cells[cell.status.value] = cells.get(cell.status.value, 0) + 1
    print(f"publication {pub_id}: {audience.value} {stage.value}, {len(built.publication.population)} Members; {cells}")
    if audience is PubAudience.WCO:
        ncps = [u for u in store.users(role=Role.NCP) if u.active and u.member]
        store.enqueue([announcement(store, pub_id, u.telegram_id, u.language) for u in ncps])
        print(f"announced to {len(ncps)} NCP(s) through the outbox")
    return 0


if __name__ == "__main__":
    sys.exit(main())
