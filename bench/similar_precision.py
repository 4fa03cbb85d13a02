"""Precision of the similar-questions step: the answered demo questions of the lawyer and agri
boards (forum/ops/demo/words/consultations.py) in a fresh SQLite store, asked and answered
through the services, then each labelled draft title of tests/data/similar_questions.json looked
up on its board. Not a test (tests/services/test_similar.py holds the floor): run it by hand and
read the numbers.

    python bench/similar_precision.py

Reported:
- precision@3: of the questions offered in the top three, over all queries, the share that is
  the one labelled for the query (a "none" query's offers are all wrong);
- none kept empty: the share of "none" queries that are offered nothing;
- found in top 3: the share of the other queries whose labelled question is among the top three.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forum import search  # noqa: E402
from forum.ops.demo.words import consultations  # noqa: E402
from forum.config import PasswordCost  # noqa: E402
from forum.model import Role  # noqa: E402
from forum.security import Passwords  # noqa: E402
from forum.services import accounts, posting, searching  # noqa: E402
from forum.services.setup import prepare_store  # noqa: E402
from forum.store import open_store  # noqa: E402

PAIRS = ROOT / "tests" / "data" / "similar_questions.json"
TOP = 3
PLACES = {"district": "红塔区", "community": "阳光花园小区", "road": "聂耳路", "village": "上营村"}
_CHEAP = Passwords(PasswordCost(memory_kib=1024, time_cost=1, parallelism=1))


def labelled_pairs() -> list[dict]:
    return json.loads(PAIRS.read_text(encoding="utf-8"))["pairs"]


async def load_demo_questions(store) -> None:
    """Every lawyer and agri demo question, each from its own asker, answered by a lawyer or an
    expert so that it counts as answered."""
    answerers = {
        "lawyer": await _account(store, "bench_lawyer", Role.LAWYER),
        "agri": await _account(store, "bench_expert", Role.EXPERT),
    }
    topics = [("lawyer", topic) for topic in consultations.LAWYER_TOPICS] + [
        ("agri", topic) for topic in consultations.AGRI_TOPICS
    ]
    for number, (board, (category, title, paragraphs, answer, *_)) in enumerate(topics):
        asker = await _account(store, f"bench_asker{number}")
        body = "\n\n".join(paragraphs).format_map(PLACES)
        view = await posting.create_post(
            store, asker, board, {"title": title, "body": body, "category": category}
        )
        await posting.add_reply(store, answerers[board], view.post.id, answer.format_map(PLACES))


async def _account(store, name: str, *roles: Role):
    user = await accounts.create_user(
        store, _CHEAP, username=name, password="bench-password-1", roles=list(roles)
    )
    # Old enough for the new-account limits not to apply.
    await store.update_user(user.id, {"created_at": user.created_at.replace(year=2020)})
    return await store.get_user(user.id)


@dataclass
class Measure:
    offered: int  # questions offered in the top three, over all queries
    relevant: int  # of those, the labelled one
    nones: int
    nones_empty: int
    labelled: int
    labelled_found: int

    @property
    def precision(self) -> float:
        return self.relevant / self.offered if self.offered else 1.0

    @property
    def none_empty_share(self) -> float:
        return self.nones_empty / self.nones if self.nones else 1.0

    @property
    def found_share(self) -> float:
        return self.labelled_found / self.labelled if self.labelled else 1.0

    def __str__(self) -> str:
        return (
            f"precision@{TOP} {self.precision:.3f} ({self.relevant}/{self.offered} offered); "
            f"none kept empty {self.none_empty_share:.3f} ({self.nones_empty}/{self.nones}); "
            f"found in top {TOP} {self.found_share:.3f} "
            f"({self.labelled_found}/{self.labelled})"
        )


async def measure(store, pairs: list[dict], verbose: bool = False) -> Measure:
    # The code before boards were passed took no `board`: then every consultation board.
    scoped = "board" in inspect.signature(searching.similar).parameters
    result = Measure(0, 0, 0, 0, 0, 0)
    for pair in pairs:
        extra = {"board": pair["board"]} if scoped else {}
        found = await searching.similar(store, None, pair["query"], **extra)
        titles = [view.post.title for view in found[:TOP]]
        expected = pair["expected"]
        result.offered += len(titles)
        result.relevant += titles.count(expected)
        if expected == "none":
            result.nones += 1
            result.nones_empty += not titles
        else:
            result.labelled += 1
            result.labelled_found += expected in titles
        if verbose and (titles != ([] if expected == "none" else [expected])):
            print(
                f"  {pair['board']} {pair['query']} -> {titles} (expected {expected})",
                file=sys.stderr,
            )
    return result


async def main() -> None:
    logging.disable(logging.WARNING)
    search.warm_up()
    folder = tempfile.mkdtemp()
    store = open_store(f"sqlite:///{folder}/bench.db")
    await prepare_store(store)
    await load_demo_questions(store)
    pairs = labelled_pairs()
    print(f"{len(pairs)} labelled queries:", await measure(store, pairs, "-v" in sys.argv))
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
