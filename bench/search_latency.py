"""Search latency at scale: N posts of Chinese text in a fresh SQLite store (or a database made
before, `--db`, e.g. by `server.py demo --posts N`), then the service's search for a set of
queries, timed. Not a test: run it by hand and read the numbers.

    python bench/search_latency.py [--posts 100000] [--queries 300] [--db URL] [--mix NAME]

Mixes (`--mix`, comma-separated; default all three):
  popular  the same eight queries in turn (what the page cache answers after their first time);
  combo    three words drawn at random from the common words of the posts, a combination that
           is new each time although every word is common;
  unknown  a popular query plus a term no post holds (what bench/pages.py's search_unique sends).
A visitor's search limit is lifted for the run (throttle.reserve is stubbed): the bench asks
thousands of times a minute from one address.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forum import search  # noqa: E402
from forum.model import Post, Status, new_id, now  # noqa: E402
from forum.services import searching, throttle  # noqa: E402
from forum.services.setup import prepare_store  # noqa: E402
from forum.store import open_store  # noqa: E402

TOPICS = [
    "劳动合同纠纷怎么处理",
    "拖欠工资如何维权",
    "小区停车位不足",
    "路灯不亮影响出行",
    "学校周边交通拥堵",
    "医保报销比例是多少",
    "农村宅基地审批流程",
    "烟草种植病虫害防治",
    "房屋租赁押金不退",
    "交通事故责任认定",
    "噪音扰民投诉渠道",
    "垃圾分类点设置",
    "养殖场污水处理",
    "公交线路调整建议",
    "商品房延期交付",
]
FILLER = [
    "希望有关部门尽快处理",
    "这个问题已经持续很久了",
    "请问应该找哪个部门",
    "附近居民都很关心",
    "谢谢各位解答",
    "具体情况如下",
    "我们多次反映未果",
    "请给出明确答复",
]
BOARDS = [("forum", Status.PUBLISHED), ("lawyer", Status.ANSWERED), ("agri", Status.OPEN)]


async def load(store, count: int) -> None:
    rng = random.Random(7)
    batch = 2000
    started = time.monotonic()
    for first in range(0, count, batch):
        rows = []
        for i in range(first, min(first + batch, count)):
            board, status = BOARDS[i % len(BOARDS)]
            title = f"{rng.choice(TOPICS)}（{i}）"
            body = "，".join(rng.sample(FILLER, 3)) + "。" + rng.choice(TOPICS)
            at = now()
            rows.append(
                (
                    Post(
                        id=new_id(),
                        board=board,
                        title=title,
                        body=body,
                        html="",
                        author_id=None,
                        status=status,
                        created_at=at,
                        updated_at=at,
                    ),
                    search.terms_for(title, body),
                )
            )

        await store.add_posts_bulk([post for post, _ in rows], [terms for _, terms in rows])
        print(f"\rloaded {min(first + batch, count)}/{count}", end="", file=sys.stderr)
    print(f"\nloaded in {time.monotonic() - started:.1f}s", file=sys.stderr)


POPULAR = [
    "劳动合同",
    "工资",
    "停车",
    "路灯 出行",
    "医保报销",
    "交通事故责任",
    "垃圾分类",
    "病虫害",
]


def common_words() -> list[str]:
    """The words the loaded posts are made of (this bench's topics and the demo's bulk subjects
    and places): each one matches thousands of posts."""
    from forum.ops.demo.words.bulk import BULK_PLACES, BULK_SUBJECTS

    texts = TOPICS + FILLER + [subject for subject, _ in BULK_SUBJECTS] + list(BULK_PLACES)
    return sorted({term for one in texts for term in search.query_terms(one) if len(term) >= 2})


def queries_of(mix: str, count: int) -> list[str]:
    rng = random.Random(11)
    if mix == "popular":
        return [POPULAR[i % len(POPULAR)] for i in range(count)]
    if mix == "combo":
        words = common_words()
        return [" ".join(rng.sample(words, 3)) for _ in range(count)]
    if mix == "unknown":
        return [f"{POPULAR[i % len(POPULAR)]} {i}q{rng.randrange(10**9)}z" for i in range(count)]
    raise SystemExit(f"unknown mix {mix}")


async def run_mix(store, mix: str, count: int) -> str:
    timings, empty = [], 0
    cpu = time.process_time()
    for query in queries_of(mix, count):
        started = time.perf_counter()
        results = await searching.search_posts(store, None, query)
        timings.append((time.perf_counter() - started) * 1000)
        empty += not results.items
    cpu = (time.process_time() - cpu) * 1000 / count
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    return (
        f"{mix:<8} {count} searches: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max "
        f"{timings[-1]:.1f} ms, CPU {cpu:.1f} ms each, {empty} without hits"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--db", help="an existing database to search (nothing is loaded)")
    parser.add_argument("--mix", default="popular,combo,unknown")
    args = parser.parse_args()

    async def unlimited(*_args, **_kwargs):
        return None

    throttle.reserve = unlimited
    if args.db:
        store = open_store(args.db)
    else:
        folder = tempfile.mkdtemp()
        store = open_store(f"sqlite:///{folder}/bench.db")
    await prepare_store(store)
    search.warm_up()
    if not args.db:
        await load(store, args.posts)
    # One search of each mix first: the first read of the index pages and jieba's caches.
    for mix in args.mix.split(","):
        await run_mix(store, mix, 3)
    for mix in args.mix.split(","):
        print(await run_mix(store, mix, args.queries), flush=True)
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
