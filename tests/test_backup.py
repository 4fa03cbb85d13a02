"""Backup and restore (forum/ops/backup.py, restore.py, restore_sqlite.py): a portal made through
the services round-trips from SQLite into SQLite and into MongoDB with every record and every
attachment's bytes equal; bad archives fail with a clear message and leave the target as it was;
and the two commands (forum/ops/commands.py) once as an operator runs them."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from forum.ops import backup, restore
from forum.ops.backup import BackupError
from forum.ops.commands import ProgressBars
from forum.clock import now
from forum.model import ApiKey, Mail, Role, Status, new_id
from forum.services import (
    accounts,
    attachments,
    cases,
    consulting,
    faq,
    flags,
    following,
    moderation,
    notify,
    posting,
    searching,
    settings,
    templates,
    tracking,
)
from forum.services.setup import prepare_store
from forum.store.base import RECORD_KINDS, TRANSIENT_KINDS, StoreRefused
from tests.support import stores
from tests.support.apps import TEST_PASSWORDS
from tests.support.files import PDF, jpeg_with_location
from tests.support.people import person
from tests.support.web import PASSWORD
from tests.test_server import ROOT, run_cli

LETTER = {
    "title": "小区门口路灯不亮",
    "body": "已经一个月了，电话13812345678",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "city",
    "contact": "13812345678",
    "public": True,
}
SLOW = 60  # seconds: a whole portal, twice over, and the search index rebuilt


async def rich_portal(store) -> dict:
    """Users of every role, a forum thread with replies and an edit, a consultation with an
    accepted answer, a mayor letter accepted, routed, replied to and rated with attachments, an
    anonymous tax report, flags, notifications, mail, settings, an API key, a reply template, a
    knowledge-base entry and the audit of it all; plus logins and rate-limit hits, which a backup leaves out."""
    citizen = await person(store, "citizen")
    lawyer = await person(store, "lawyer1", Role.LAWYER)
    await store.update_user(lawyer.id, {"specialties": ["劳动", "合同"]})
    expert = await person(store, "expert1", Role.EXPERT)
    staff = await person(store, "housing_staff", Role.STAFF, department="housing")
    mod = await person(store, "mod", Role.MODERATOR)
    admin = await person(store, "root", Role.ADMIN)
    await accounts.change_email(
        store, TEST_PASSWORDS, citizen, "citizen@example.cn", PASSWORD
    )  # a mail in the outbox, with a one-use link
    await store.enqueue_mail(
        Mail(
            new_id(),
            "citizen@example.cn",
            "[玉溪网] 您的信件有了官方答复",
            "您好：……",
            now(),
            next_attempt_at=now(),
        )
    )

    thread = await posting.create_post(
        store, citizen, "forum", {"title": "抚仙湖周末交通管制", "body": "请问几点开始？"}
    )
    await posting.add_reply(store, expert, thread.post.id, "早上八点开始。")
    await posting.add_reply(store, staff, thread.post.id, "以交警通告为准。")
    await posting.edit_post(store, citizen, thread.post.id, {"body": "请问周六几点开始管制？"})
    await flags.flag_post(store, lawyer, thread.post.id, "疑似广告")
    await flags.flag_post(store, staff, thread.post.id, "重复发帖")

    question = await posting.create_post(
        store,
        citizen,
        "lawyer",
        {
            "title": "公司不签劳动合同怎么办",
            "body": "入职三个月，电话13812345678",
            "category": "劳动",
        },
    )
    answer = await posting.add_reply(store, lawyer, question.post.id, "可主张二倍工资。")
    await posting.add_reply(store, citizen, question.post.id, "如何申请仲裁？")
    await consulting.accept_answer(store, citizen, question.post.id, answer.reply.id)

    letter = await posting.create_post(store, citizen, "mayor", LETTER)
    await attachments.add_files(
        store, citizen, letter.post.id, [("现场.pdf", PDF), ("照片.jpg", jpeg_with_location())]
    )
    await moderation.moderate(store, mod, letter.post.id, "accept")
    await cases.route_case(store, mod, letter.post.id, "housing", 5, "请尽快处理")
    await posting.add_reply(store, staff, letter.post.id, "已安排维修，三日内修复。")
    await cases.rate_case(store, citizen, letter.post.id, "satisfied", "很及时")

    await templates.add_template(store, staff, "housing", "已安排维修", "您好，已安排维修。")
    await faq.add_entry(
        store,
        lawyer,
        {
            "post_id": question.post.id,
            "question": "不签劳动合同怎么办",
            "answer": "可主张**二倍工资**。",
        },
    )

    report = await posting.create_post(
        store, None, "tax", {"title": "某公司虚开发票", "body": "证据见附件"}, address="10.1.1.1"
    )
    await following.follow(store, lawyer, f"post:{thread.post.id}")
    await following.follow(store, citizen, "department:housing")
    await settings.save_sensitive_words(store, admin, ["赌博", "代开发票"])
    await settings.save_calendar(store, admin, ["2026-10-01", "2026-10-02"], ["2026-09-27"])
    await store.add_api_key(
        ApiKey(new_id(), "12345热线", hashlib.sha256(b"k").hexdigest(), admin.id, now())
    )
    await accounts.login(
        store, TEST_PASSWORDS, username="citizen", password=PASSWORD, kind="bearer"
    )
    await store.reserve_hit("login:somebody", now(), now(), 1)
    return {"citizen": citizen, "letter": letter, "report": report, "question": question}


async def exported(store, *, archived: bool = False) -> dict[str, list[dict]]:
    """Every record of `store` by kind; `archived`: only what an archive keeps of them (unsent
    mail with a one-use link is left out)."""
    by_kind: dict[str, list[dict]] = {}
    async for kind, record in store.export_records():
        if (
            archived
            and kind == "mail"
            and record["subject"] in backup.SECRET_SUBJECTS
            and record["sent_at"] is None
        ):
            continue
        by_kind.setdefault(kind, []).append(record)
    return by_kind


async def attachment_bytes(store, records: dict[str, list[dict]]) -> dict[str, bytes]:
    return {
        a["id"]: (await store.get_attachment(a["id"]))[1] for a in records.get("attachments", [])
    }


@pytest.fixture
def target(request, io_loop, tmp_path):
    """An empty store to restore into, of the kind the test asks for (sqlite by default); for
    SQLite one a server has started on already (seeded boards and departments)."""
    kind = getattr(request, "param", "sqlite")
    folder = tmp_path / "target"
    folder.mkdir()
    store = stores.make(kind, folder)
    io_loop.run_sync(lambda: prepare_store(store) if kind == "sqlite" else store.open())
    yield store
    io_loop.run_sync(lambda: stores.dispose(store))


@pytest.fixture
def archive(io_loop, store, tmp_path, segmenter) -> Path:
    """A backup of a rich portal."""
    path = tmp_path / "backup.zip"

    async def make():
        await rich_portal(store)
        await backup.backup(store, path)

    io_loop.run_sync(make, timeout=SLOW)
    return path


# the round trip ------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["sqlite", "mongodb"], indirect=True)
@pytest.mark.gen_test(timeout=SLOW)
async def test_round_trip_keeps_every_record_and_attachment(store, target, tmp_path, segmenter):
    portal = await rich_portal(store)
    everything = await exported(store)
    source = await exported(store, archived=True)
    # The dataset is rich enough to mean something: every kind a backup holds is there.
    assert {kind for kind, records in source.items() if records} == set(RECORD_KINDS)
    # The confirmation mail's one-use link stays out of the archive; other mail goes in.
    assert len(everything["mail"]) == 2 and [m["subject"] for m in source["mail"]] == [
        "[玉溪网] 您的信件有了官方答复"
    ]
    seen = []
    path = tmp_path / "portal.zip"
    made = await backup.backup(store, path, lambda *step: seen.append(step))
    total = len(sum(everything.values(), []))
    assert ("records", total, total) in seen
    assert {kind: entry["count"] for kind, entry in made["records"].items()} == {
        kind: len(source.get(kind, [])) for kind in RECORD_KINDS
    }

    steps = []
    await restore.restore(target, path, lambda *step: steps.append(step))
    stages = [stage for stage, _, _ in steps]
    assert list(dict.fromkeys(stages)) == ["verifying", "restoring", "search index", "checking"]

    # Record by record, the same; the attachments' bytes too.
    assert await exported(target) == source
    assert await attachment_bytes(target, source) == await attachment_bytes(store, source)
    assert len(source["attachments"]) == 2

    # The restored portal works: search (its index rebuilt), sign-in with the same password, a
    # tracking code, the letter's thread with its events.
    found = await searching.search_posts(target, None, "劳动合同")
    assert [item.view.post.id for item in found.items][:1] == [portal["question"].post.id]
    login = await accounts.login(
        target, TEST_PASSWORDS, username="citizen", password=PASSWORD, kind="bearer"
    )
    assert login.user.id == portal["citizen"].id
    tracked = await tracking.track(target, portal["report"].tracking_code, "10.2.2.2")
    assert tracked.post.post.id == portal["report"].post.id
    thread = await posting.get_thread(target, portal["citizen"], portal["letter"].post.id)
    assert thread.post.post.status is Status.CLOSED
    assert [e.event.action for e in thread.events][-1] == "rate_satisfied"
    assert await notify.unread_count(target, portal["citizen"]) > 0


@pytest.mark.gen_test(timeout=SLOW)
async def test_the_archive_is_a_zip_with_a_manifest_records_and_attachments(archive, store):
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        names = set(opened.namelist())
        assert manifest["format"] == "yuxi-forum-backup" and manifest["format_version"] == 1
        assert manifest["source"] == {"store": "sqlite"} and manifest["created_at"].endswith("Z")
        assert set(manifest["schema"]["record_fields"]) == set(RECORD_KINDS)
        assert set(manifest["left_out"]) == {*TRANSIENT_KINDS, "search index"}
        assert names == {
            "manifest.json",
            *(f"records/{kind}.jsonl" for kind in RECORD_KINDS),
            *(f"attachments/{i}" for i in manifest["attachments"]),
        }
        for kind, entry in manifest["records"].items():
            data = opened.read(entry["file"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert len(data.splitlines()) == entry["count"]
        for attachment_id, entry in manifest["attachments"].items():
            info = opened.getinfo(entry["file"])
            assert info.compress_type == zipfile.ZIP_STORED  # JPEG and PDF: compressed already
            assert hashlib.sha256(opened.read(info)).hexdigest() == entry["sha256"]
        users = [json.loads(line) for line in opened.read("records/users.jsonl").splitlines()]
        assert users[0]["created_at"].endswith("Z") and "username_key" not in users[0]
        posts = opened.read("records/posts.jsonl").decode()
        assert "terms" not in json.loads(posts.splitlines()[0])
    assert not any(name.startswith(".backup-") for name in os.listdir(archive.parent))
    assert archive.stat().st_mode & 0o777 == 0o600  # personal data: its owner's eyes only


@pytest.mark.gen_test(timeout=SLOW)
async def test_backup_never_overwrites_a_file(store, tmp_path):
    taken = tmp_path / "taken.zip"
    taken.write_bytes(b"an older backup")
    with pytest.raises(BackupError, match="exists already"):
        await backup.backup(store, taken)
    assert taken.read_bytes() == b"an older backup"
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".backup-")]


# bad archives --------------------------------------------------------------------------------
def rewritten(path: Path, into: Path, changes: dict) -> Path:
    """A copy of the archive at `path` with members replaced (name -> bytes), removed (-> None)
    or added, each written as a proper ZIP member (fresh CRC): only the manifest can tell."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(into, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename in changes:
                continue
            out.writestr(info, source.read(info))
        for name, data in changes.items():
            if data is not None:
                out.writestr(name, data)
    return into


def manifest_of(path: Path) -> dict:
    with zipfile.ZipFile(path) as opened:
        return json.loads(opened.read("manifest.json"))


def member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as opened:
        return opened.read(name)


def truncated(path: Path, into: Path) -> Path:
    into.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    return into


def tampered_line(path: Path, into: Path) -> Path:
    lines = member(path, "records/users.jsonl").splitlines(keepends=True)
    record = json.loads(lines[0])
    record["roles"] = ["citizen", "admin"]  # well-formed, valid, and not what was backed up
    lines[0] = json.dumps(record, ensure_ascii=False).encode() + b"\n"
    return rewritten(path, into, {"records/users.jsonl": b"".join(lines)})


def wrong_count(path: Path, into: Path) -> Path:
    manifest = manifest_of(path)
    manifest["records"]["posts"]["count"] += 1
    return rewritten(path, into, {"manifest.json": json.dumps(manifest).encode()})


def dropped_line(path: Path, into: Path) -> Path:
    # The line and the manifest's count both changed: the checksum still tells.
    lines = member(path, "records/replies.jsonl").splitlines(keepends=True)
    manifest = manifest_of(path)
    manifest["records"]["replies"]["count"] -= 1
    return rewritten(
        path,
        into,
        {
            "records/replies.jsonl": b"".join(lines[1:]),
            "manifest.json": json.dumps(manifest).encode(),
        },
    )


def tampered_attachment(path: Path, into: Path) -> Path:
    (attachment_id, entry), *_ = manifest_of(path)["attachments"].items()
    return rewritten(path, into, {entry["file"]: member(path, entry["file"]) + b"<script>"})


def missing_attachment(path: Path, into: Path) -> Path:
    (attachment_id, entry), *_ = manifest_of(path)["attachments"].items()
    return rewritten(path, into, {entry["file"]: None})


def extra_member(path: Path, into: Path) -> Path:
    return rewritten(path, into, {"attachments/../../evil.sh": b"rm -rf /"})


def random_bytes(path: Path, into: Path) -> Path:
    into.write_bytes(os.urandom(50_000))
    return into


def foreign_zip(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(into, "w") as out:
        out.writestr("word/document.xml", "<w:document/>")
    return into


def foreign_manifest(path: Path, into: Path) -> Path:
    return rewritten(path, into, {"manifest.json": json.dumps({"format": "other"}).encode()})


def newer_format(path: Path, into: Path) -> Path:
    manifest = manifest_of(path)
    manifest["format_version"] = 99
    return rewritten(path, into, {"manifest.json": json.dumps(manifest).encode()})


def unknown_kind(path: Path, into: Path) -> Path:
    manifest = manifest_of(path)
    manifest["records"]["polls"] = {
        "file": "records/polls.jsonl",
        "count": 0,
        "sha256": hashlib.sha256(b"").hexdigest(),
    }
    return rewritten(
        path, into, {"manifest.json": json.dumps(manifest).encode(), "records/polls.jsonl": b""}
    )


def invalid_record(path: Path, into: Path) -> Path:
    # A line that is JSON but no post (no id), with the checksum made to match: still refused.
    data = member(path, "records/posts.jsonl") + b'{"title": "no id"}\n'
    manifest = manifest_of(path)
    manifest["records"]["posts"].update(
        count=manifest["records"]["posts"]["count"] + 1, sha256=hashlib.sha256(data).hexdigest()
    )
    return rewritten(
        path, into, {"records/posts.jsonl": data, "manifest.json": json.dumps(manifest).encode()}
    )


BAD_ARCHIVES = {
    truncated: "not a ZIP file, or truncated",
    tampered_line: "records/users.jsonl does not match its checksum",
    wrong_count: "records/posts.jsonl holds",
    dropped_line: "records/replies.jsonl does not match its checksum",
    tampered_attachment: "does not match its checksum",
    missing_attachment: "lacks files its manifest names",
    extra_member: "holds files its manifest does not name",
    random_bytes: "not a ZIP file",
    foreign_zip: "holds no manifest.json",
    foreign_manifest: "another format",
    newer_format: "made by a newer version",
    unknown_kind: "kinds this version does not know (polls)",
    invalid_record: "is not a valid posts record",
}


@pytest.mark.parametrize("damage", list(BAD_ARCHIVES), ids=lambda damage: damage.__name__)
@pytest.mark.parametrize("force", [False, True], ids=["empty target", "forced, full target"])
@pytest.mark.gen_test(timeout=SLOW)
async def test_a_bad_archive_fails_clearly_and_leaves_the_target_untouched(
    damage, force, archive, target, tmp_path
):
    bad = damage(archive, tmp_path / f"bad-{damage.__name__}.zip")
    if force:  # even --force touches nothing before the archive has passed every check
        await person(target, "already_here")
        await target.put_setting("k", "v")
    before = await exported(target)
    with pytest.raises(BackupError) as caught:
        await restore.restore(target, bad, force=force)
    assert BAD_ARCHIVES[damage] in str(caught.value)
    assert await exported(target) == before
    assert await target.is_empty() is not force


@pytest.mark.gen_test(timeout=SLOW)
async def test_a_target_that_is_not_empty_is_refused_unless_forced(archive, store, target):
    intruder = await person(target, "already_here")
    before = await exported(target)
    with pytest.raises(BackupError, match="not empty.*--force wipes it first"):
        await restore.restore(target, archive)
    assert await exported(target) == before
    # Forced: wiped first, so the target holds the archive and nothing else.
    await restore.restore(target, archive, force=True)
    assert await exported(target) == await exported(store, archived=True)
    assert await target.get_user(intruder.id) is None


@pytest.mark.parametrize("target", ["sqlite", "mongodb"], indirect=True)
@pytest.mark.gen_test(timeout=SLOW)
async def test_a_restore_that_stops_part_way_says_how_to_go_on_and_the_server_refuses_it(
    archive, store, target, monkeypatch
):
    async def failing(kind, records):
        if kind == "posts":
            raise OSError("disk full")
        return await original(kind, records)

    original = target.import_records
    monkeypatch.setattr(target, "import_records", failing)
    with pytest.raises(BackupError, match="part-way \\(disk full\\).*again with --force"):
        await restore.restore(target, archive)
    # Half an archive is in: the database keeps the mark, and nothing starts on it.
    assert await target.unfinished_restore() is not None
    with pytest.raises(StoreRefused, match="did not finish.*--force"):
        await prepare_store(target)
    # Run again, forced and whole: the mark goes, and the server may start.
    monkeypatch.setattr(target, "import_records", original)
    await restore.restore(target, archive, force=True)
    assert await target.unfinished_restore() is None
    await prepare_store(target)
    assert await exported(target) == await exported(store, archived=True)


def test_progress_bars_draw_each_stage_on_one_line():
    out = io.StringIO()
    bars = ProgressBars(out)
    for done in range(0, 101, 25):
        bars("verifying", done, 100)
    bars("records", 7, None)
    bars.close()
    lines = out.getvalue().split("\n")
    assert lines[0].endswith("100/100 (0s)") and "[" + "#" * 30 + "]" in lines[0]
    assert lines[0].count("\r") >= 2 and lines[1].strip().startswith("records")


# the commands --------------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'forum.db'}"


def test_backup_and_restore_commands(db, tmp_path):
    made = run_cli(
        "create-user",
        "root",
        "--role",
        "admin",
        "--password-stdin",
        "--db",
        db,
        stdin=PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    path = tmp_path / "nightly.zip"
    saved = run_cli("backup", str(path), "--db", db)
    assert saved.returncode == 0, saved.stderr
    assert f"to {path}" in saved.stdout and "1 users" in saved.stdout
    assert "records" in saved.stderr and "] " in saved.stderr  # a progress bar
    again = run_cli("backup", str(path), "--db", db)
    assert again.returncode == 1 and "exists already" in again.stderr

    other = f"sqlite:///{tmp_path / 'other' / 'forum.db'}"
    restored = run_cli("restore", str(path), "--db", other)
    assert restored.returncode == 0, restored.stderr
    assert "restored" in restored.stdout and "search index rebuilt" in restored.stdout
    for stage in ("verifying", "restoring", "search index", "checking"):
        assert stage in restored.stderr
    refused = run_cli("restore", str(path), "--db", other)
    assert refused.returncode == 1 and "not empty" in refused.stderr
    forced = run_cli("restore", str(path), "--db", other, "--force")
    assert forced.returncode == 0, forced.stderr

    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not an archive at all")
    failed = run_cli("restore", str(garbage), "--db", f"sqlite:///{tmp_path / 'third.db'}")
    assert failed.returncode == 1
    assert "error: restore failed" in failed.stderr and "not a ZIP file" in failed.stderr
    # The restored copy answers like the original: the admin signs in.
    login = run_cli("create-user", "ROOT", "--password-stdin", "--db", other, stdin=PASSWORD + "\n")
    assert login.returncode == 1 and "用户名已被使用" in login.stderr


# restoring into SQLite all at once -----------------------------------------------------------
def folder_state(folder: Path) -> dict[str, str]:
    """Every file under `folder` but a restore's work folder, with the SHA-256 of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.relative_to(folder).parts[0].startswith(".restore-")
    }


def leftovers(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir() if path.name.startswith(".restore-")]


def test_a_killed_restore_leaves_the_target_as_it_was(archive, tmp_path, io_loop):
    live_folder = tmp_path / "live"
    live = f"sqlite:///{live_folder / 'forum.db'}"
    first = run_cli("restore", str(archive), "--db", live)
    assert first.returncode == 0, first.stderr
    # The attachments' files came along with the database that names them.
    records = io_loop.run_sync(lambda: restored_attachments(live_folder / "forum.db"))
    assert records and all(found is not None for found in records.values())

    # An archive big enough to be killed while it loads.
    demo = f"sqlite:///{tmp_path / 'demo' / 'forum.db'}"
    assert run_cli("demo", "--posts", "2500", "--scale", "0.1", "--db", demo).returncode == 0
    big = tmp_path / "big.zip"
    assert run_cli("backup", str(big), "--db", demo).returncode == 0

    before = folder_state(live_folder)
    assert "forum.db" in before and any(name.startswith("files/") for name in before)
    restoring = subprocess.Popen(
        [sys.executable, "server.py", "restore", str(big), "--db", live, "--force"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    seen = b""
    while b"restoring" not in seen:  # progress bars, redrawn in place with \r
        chunk = os.read(restoring.stderr.fileno(), 4096)
        assert chunk, f"the restore ended before loading: {seen!r}"
        seen += chunk
    restoring.kill()
    restoring.wait(timeout=10)
    restoring.stderr.close()
    assert b"restored" not in seen
    assert folder_state(live_folder) == before  # the database and its files, byte for byte
    assert len(leftovers(live_folder)) == 1  # a killed process cannot clean up after itself...

    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not an archive")
    refused = run_cli("restore", str(garbage), "--db", live)
    assert refused.returncode == 1 and "not a ZIP file" in refused.stderr
    assert leftovers(live_folder) == []  # ...the next restore into the folder does
    assert folder_state(live_folder) == before

    replaced = run_cli("restore", str(big), "--db", live, "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert leftovers(live_folder) == []
    after = folder_state(live_folder)
    assert not any(name.startswith("files/") for name in after)  # the old attachments' files
    assert after["forum.db"] != before["forum.db"]


async def restored_attachments(path: Path) -> dict[str, bytes | None]:
    from forum.store.sqlite import SqliteStore

    store = SqliteStore(str(path))
    await store.open()
    try:
        found = {}
        async for kind, record in store.export_records():
            if kind == "attachments":
                got = await store.get_attachment(record["id"])
                found[record["id"]] = got[1] if got else None
        return found
    finally:
        await store.close()


def test_a_refused_restore_into_a_new_path_leaves_no_file(archive, tmp_path):
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(damaged, "w") as copy:
        for item in source.infolist():
            data = source.read(item)
            copy.writestr(
                item, data[:-1] + b"!" if item.filename.startswith("records/posts") else data
            )
    existing = tmp_path / "existing"
    existing.mkdir()
    for db in (tmp_path / "new" / "forum.db", existing / "forum.db"):
        failed = run_cli("restore", str(damaged), "--db", f"sqlite:///{db}")
        assert failed.returncode == 1 and "checksum" in failed.stderr, failed.stderr
    assert not (tmp_path / "new").exists()
    assert list(existing.iterdir()) == []


def test_a_restore_into_a_database_a_server_has_open_is_refused(archive, tmp_path):
    from tests.test_server import Server, free_port

    live = f"sqlite:///{tmp_path / 'live' / 'forum.db'}"
    server = Server(live, free_port()).start()
    try:
        before = folder_state(tmp_path / "live")
        refused = run_cli("restore", str(archive), "--db", live, "--force")
        assert refused.returncode == 1 and "stop the server" in refused.stderr, refused.stderr
        assert leftovers(tmp_path / "live") == []
        assert folder_state(tmp_path / "live").keys() == before.keys()
        assert server.call("GET", "/healthz")[0] == 200
    finally:
        assert server.stop() == 0
