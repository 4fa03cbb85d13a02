"""Open311 GeoReport v2 for the case boards: services, service requests and tokens, as plain
lists of dicts in the specification's field order (forum/web/open311.py writes them as JSON or
XML). No Tornado here, and no rule of its own about who sees what: the public's view of the
boards (posting.list_posts and posting.visible_post with no viewer) decides what is listed.

Decisions, and why (the README's Open311 section says the same to operators):

- One service per case board, `mayor` and `tax`, not one per category. Open311's service is
  the kind of request a client offers its users; our categories are a routing hint that the
  letters-and-visits bureau corrects anyway, and a category per service would put non-ASCII
  codes or a mapping table in every client. `metadata` is false: no extra fields are asked.
- `type` is `batch` for letters and `blackbox` for tax reports, never `realtime`: a letter is
  not public before the bureau accepts it (and a private one never is), so its id cannot be
  handed out at once. A POST answers with a token, the case's tracking code (查询码), and
  `tokens/{token}` gives the id once the letter is public. A tax report is confidential for
  good: its id is never given, it is never listed and `requests/{id}` answers 404 for it; its
  token still comes back, because the reporter follows the case on /track with it.
- A letter needs an account and a real name (实名). An API key writes letters through a
  gateway account of its own, `open311-<key id>`, made on first use: disabled, without a
  password, and with a name no one can log in or register with. The citizen's name and phone
  or e-mail (first_name/last_name, phone/email) are required and become the letter's contact,
  which is never public. Since no one can log in as the gateway, no one rates the reply: the
  case closes on its own 15 days after it, as unrated cases do. A letter is private unless the
  client sends `public=true`, the citizen's consent, as the site's own form asks for it.
- `status_notes` is built from what the public page of the case shows (status, department,
  overdue, rating). The case's events, whose notes are written for the writer and the
  officials, are not public, so their notes are not used.
- `jurisdiction_id` is ignored: one jurisdiction per endpoint, which the specification allows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any, Mapping

from forum import boards, workflow
from forum.clock import now
from forum.errors import Conflict, Forbidden, Invalid, NotFound
from forum import limits
from forum.limits import DISPLAY_NAME_MAX
from forum.messages import msg
from forum.model import ApiKey, Kind, Post, Role, Status, User, new_id
from forum.services import apikeys, forms, posting, throttle, tracking
from forum.services.fields import Fields, required
from forum.services.presenting import may_see, present_posts
from forum.store.base import Store

# Forbidden with this code means a missing or refused API key: the one error the
# specification answers with 403.
KEY_REFUSED = "api_key"

DESCRIPTION_MAX = forms.OPEN311_DESCRIPTION_MAX
TITLE_CHARS = 60  # a title made from the description's first line
RANGE_DAYS = 90  # the longest span of a requests list, and its default
REQUESTS_MAX = 1000  # the most requests one list returns
PAGE_SIZE = 100  # posts read per call while a list is gathered
GATEWAY_PREFIX = "open311-"  # a hyphen: no account anyone registers or logs in with has one
BUREAU = "xinfang"  # the letters-and-visits bureau's department slug

# W3C date-time (https://www.w3.org/TR/NOTE-datetime): a date, or a date and time with a zone.
# A "+" left unencoded in a query string arrives as a space; it is read as the "+" it was.
W3C_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
W3C_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+ -]\d{2}:\d{2})")


@dataclasses.dataclass(frozen=True)
class Service:
    code: str
    type: str  # "batch" or "blackbox" (see the module's docstring)
    group: str  # the department whose name groups the service


SERVICES: dict[str, Service] = {
    "tax": Service("tax", "blackbox", "tax"),
    "mayor": Service("mayor", "batch", BUREAU),
}
assert all(boards.POLICIES[code].kind is Kind.CASE for code in SERVICES)

# Open311's two statuses, and which of a public case's statuses each stands for.
STATUSES: dict[str, tuple[Status, ...]] = {
    "open": (Status.ACCEPTED, Status.ROUTED, Status.REPLIED),
    "closed": workflow.CLOSED_CASE_STATUSES,
}
RATING_NAMES = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}

# What a field of create_post is called in Open311, for its error messages.
OPEN311_FIELDS = {"title": "description", "body": "description", "contact": "email"}


@dataclasses.dataclass
class _Context:
    """What every request of an answer needs: board settings and department names, read once."""

    boards: dict[str, Any]
    departments: dict[str, str]

    def department(self, slug: str | None) -> str | None:
        return self.departments.get(slug) if slug else None


async def _context(store: Store) -> _Context:
    return _Context(
        {b.slug: b for b in await store.list_boards()},
        {d.slug: d.name for d in await store.list_departments()},
    )


# services ------------------------------------------------------------------------------------
async def list_services(store: Store) -> list[dict[str, Any]]:
    """GET services: the case boards, in the boards' order."""
    context = await _context(store)
    return [
        _service(context, SERVICES[slug])
        for slug in boards.BOARD_ORDER
        if slug in SERVICES and slug in context.boards
    ]


async def service_definition(store: Store, code: Any) -> dict[str, Any]:
    """GET services/{code}: no attributes (metadata is false for every service). Raises
    NotFound for an unknown code."""
    if not isinstance(code, str) or code not in SERVICES:
        raise NotFound("service_code 不存在")
    return {"service_code": code, "attributes": []}


# What a GeoReport request is, as a letter: a report of a problem that wants fixing.
OPEN311_LETTER_TYPE = "complaint"


def _service(context: _Context, service: Service) -> dict[str, Any]:
    settings = context.boards[service.code]
    return {
        "service_code": service.code,
        "service_name": settings.name,
        "description": settings.description,
        "metadata": False,
        "type": service.type,
        "keywords": ", ".join(settings.categories),
        "group": context.department(service.group) or settings.name,
    }


def _notice(context: _Context, code: str) -> str:
    """What happens to a request of this service, with the board's current due times."""
    settings = context.boards[code]
    steps = (
        f"市信访局在{settings.accept_days}个工作日内决定是否受理，受理后转办承办部门，"
        f"承办部门在转办后{settings.reply_days}个工作日内答复。"
    )
    if boards.POLICIES[code].confidential:
        return "举报内容保密，不公开，也不出现在请求列表中。" + steps
    return steps + "同意公开的信件受理后公开，联系方式不公开。"


# requests ------------------------------------------------------------------------------------
async def list_requests(store: Store, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """GET requests: public letters, newest first, at most REQUESTS_MAX, requested within at
    most RANGE_DAYS (the most recent ones by default). `args` are the query's arguments, each
    a string, several values comma-separated. Raises Invalid."""
    wanted_ids = _split(args.get("service_request_id"))
    if wanted_ids:
        # The specification: these override every other argument.
        if len(wanted_ids) > REQUESTS_MAX:
            raise Invalid({"service_request_id": msg("最多 {count} 个", count=REQUESTS_MAX)})
        requested: list[dict[str, Any]] = []
        for request_id in dict.fromkeys(wanted_ids):
            try:
                requested.extend(await get_request(store, request_id))
            except NotFound:
                continue  # not public, or no such request: left out, as a list leaves it out
        return requested
    fields = Fields()
    codes = _choices(fields, "service_code", args.get("service_code"), list(SERVICES))
    statuses = _choices(fields, "status", args.get("status"), list(STATUSES))
    start = _moment(fields, "start_date", args.get("start_date"), end=False)
    end = _moment(fields, "end_date", args.get("end_date"), end=True)
    fields.done()
    start, end = _range(start, end)
    wanted = {status for name in statuses for status in STATUSES[name]}
    posts: list[Post] = []
    for code in codes:
        # The newest REQUESTS_MAX of each service at most; merged, the newest of them all.
        found: list[Post] = []
        cursor = None
        while len(found) < REQUESTS_MAX:
            page = await posting.list_posts(
                store,
                None,
                code,
                cursor=cursor,
                limit=PAGE_SIZE,
                created_from=start,
                created_before=end,
            )
            found.extend(view.post for view in page.items if view.post.status in wanted)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        posts.extend(found)
    # Pinned letters come first on a board's first page; a request list is by time alone.
    posts.sort(key=lambda post: (post.created_at, post.id), reverse=True)
    context = await _context(store)
    at = now()
    return [_request(context, post, at) for post in posts[:REQUESTS_MAX]]


async def get_request(store: Store, request_id: Any) -> list[dict[str, Any]]:
    """GET requests/{id}: a one-item list. Raises NotFound for anything the public may not see
    (a letter not yet accepted, a private letter, every tax report) as for no request at all,
    so that an id reveals nothing."""
    post, _ = await posting.visible_post(store, None, request_id)
    if post.board not in SERVICES:
        raise NotFound("内容不存在或无权查看")
    (view,) = await present_posts(store, None, [post])  # masked as the public reads it
    context = await _context(store)
    return [_request(context, view.post, now())]


async def request_for_token(store: Store, token: Any) -> list[dict[str, Any]]:
    """GET tokens/{token}: the request id, once the case behind the token is public. A token
    that is malformed, unknown, or names a case the public may not see (yet: a letter waiting
    for acceptance; or ever: a private letter, a tax report) answers NotFound alike, so the
    answer tells nothing but what is public anyway; hence no rate limit is needed."""
    post = await tracking.case_by_code(store, token)
    if (
        post is None
        or post.board not in SERVICES
        or not may_see(post, boards.POLICIES[post.board], None)
    ):
        raise NotFound("没有与此 token 对应的公开请求（信件受理并公开后才有编号）")
    return [{"service_request_id": post.id, "token": token}]


def _request(context: _Context, post: Post, at: dt.datetime) -> dict[str, Any]:
    settings = context.boards.get(post.board)
    closed = post.status in workflow.CLOSED_CASE_STATUSES
    description = post.body if post.body.startswith(post.title) else f"{post.title}\n\n{post.body}"
    if len(description) > DESCRIPTION_MAX:
        description = description[: DESCRIPTION_MAX - 1] + "…"
    return {
        "service_request_id": post.id,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(context, post, at),
        "service_name": settings.name if settings else post.board,
        "service_code": post.board,
        "description": description,
        "agency_responsible": _agency(context, post),
        "service_notice": _notice(context, post.board) if settings else None,
        "requested_datetime": w3c(post.created_at),
        "updated_datetime": w3c(post.closed_at if closed and post.closed_at else post.updated_at),
        "expected_datetime": w3c(post.due_at),
        # No case has a location; the fields are there, empty, for clients that expect them.
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _agency(context: _Context, post: Post) -> str | None:
    """The routed department; before routing (or after a return), the bureau that has it."""
    return context.department(post.department) or context.department(BUREAU)


def _status_notes(context: _Context, post: Post, at: dt.datetime) -> str | None:
    department = context.department(post.department) or "承办部门"
    if post.status is Status.ACCEPTED:
        return "写信人对答复不满意，已重新受理，待转办" if post.reopened else "已受理，待转办"
    if post.status is Status.ROUTED:
        late = "，已超过答复期限" if workflow.is_overdue(post, at) else ""
        return f"已转办至{department}{late}"
    if post.status is Status.REPLIED:
        return f"{department}已答复，待写信人评价"
    if post.status is Status.CLOSED:
        rating = RATING_NAMES.get(post.rating or "")
        return f"已办结，写信人评价：{rating}" if rating else "已办结"
    if post.status is Status.UNRATED:
        return "已办结，写信人未评价"
    if post.status is Status.MERGED:
        return f"与事项 {post.merged_into} 为同一事项，已合并办理"
    return None


def w3c(stamp: dt.datetime | None) -> str | None:
    """ISO 8601 with the city's offset (+08:00), to the second, as the specification writes
    times."""
    if stamp is None:
        return None
    return stamp.astimezone(workflow.CHINA_STANDARD_TIME).isoformat(timespec="seconds")


# request arguments ---------------------------------------------------------------------------
def _split(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def _choices(fields: Fields, name: str, value: Any, allowed: list[str]) -> list[str]:
    """Comma-separated values, each one of `allowed`; all of them when none is given."""
    chosen = _split(value)
    unknown = [part for part in chosen if part not in allowed]
    if unknown:
        # The values are not repeated: an error message is no place to echo what was sent.
        fields.fail(name, "可选值：" + "、".join(allowed))
        return []
    return list(dict.fromkeys(chosen)) or list(allowed)


def _moment(fields: Fields, name: str, value: Any, *, end: bool) -> dt.datetime | None:
    """A W3C date-time with a zone; or a date, meaning that whole day in the city's time (from
    its start for start_date, through its end for end_date)."""
    if value is None or value == "":
        return None
    text = value.strip() if isinstance(value, str) else ""
    try:
        if W3C_DATE.fullmatch(text):
            day = dt.date.fromisoformat(text) + dt.timedelta(days=1 if end else 0)
            return dt.datetime.combine(day, dt.time(), workflow.CHINA_STANDARD_TIME)
        if W3C_DATETIME.fullmatch(text):
            if text[-6] == " ":
                text = text[:-6] + "+" + text[-5:]
            stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            # end_date is the latest time included; lists take times before a bound.
            return stamp + dt.timedelta(milliseconds=1) if end else stamp
    except (ValueError, OverflowError):  # OverflowError: a day after 9999-12-31
        pass
    fields.fail(
        name,
        "应为 W3C 日期时间（带时区），例如 2026-01-01T00:00:00+08:00、"
        "2026-01-01T00:00:00Z，或日期 2026-01-01",
    )
    return None


def _range(start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a list: the most recent RANGE_DAYS by default; RANGE_DAYS from the one
    bound given; both given must be in order and at most RANGE_DAYS apart. Raises Invalid."""
    span = dt.timedelta(days=RANGE_DAYS)
    if end is None:
        # Without either bound, up to and including this millisecond: a request made just now
        # is listed.
        end = start + span if start is not None else now() + dt.timedelta(milliseconds=1)
    if start is None:
        start = end - span
    if end <= start:
        raise Invalid({"end_date": "应晚于 start_date"})
    # end is exclusive: one millisecond past the latest time included.
    if end - start > span + dt.timedelta(milliseconds=1):
        raise Invalid(
            {"end_date": msg("start_date 与 end_date 相隔不能超过 {days} 天", days=RANGE_DAYS)}
        )
    return start, end


# creating requests ---------------------------------------------------------------------------
async def create_request(store: Store, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """POST requests: a letter or a tax report, made by posting.create_post as the site makes
    it. Answers a one-item list with the token (the case's tracking code, shown only here).
    Raises Forbidden (code KEY_REFUSED: no key, or not a valid one), Invalid, NotFound
    (service_code), Forbidden (the board is closed), RateLimited."""
    key = await apikeys.authenticate(store, data.get("api_key"))
    if key is None:
        given = data.get("api_key") not in (None, "")
        raise Forbidden(
            "api_key 无效或已被吊销，不能提交请求"
            if given
            else "缺少 api_key：提交请求需要管理员签发的密钥",
            code=KEY_REFUSED,
        )
    code = data.get("service_code")
    if code is None or code == "":
        raise Invalid({"service_code": "必填"})
    if not isinstance(code, str) or code not in SERVICES:
        raise NotFound("service_code 不存在")
    policy = boards.POLICIES[code]
    fields = Fields()
    description = fields.take(forms.OPEN311_DESCRIPTION, "description", data.get("description"))
    first = fields.take(forms.OPEN311_NAME, "first_name", data.get("first_name"))
    last = fields.take(forms.OPEN311_NAME, "last_name", data.get("last_name"))
    phone = fields.take(forms.OPEN311_PHONE_FIELD, "phone", data.get("phone"))
    email = fields.take(forms.EMAIL, "email", data.get("email"))
    public = _flag(fields, "public", data.get("public"))
    place = _place(fields, data)
    if policy.real_name and "first_name" not in fields.errors and "last_name" not in fields.errors:
        if not (first or last):
            fields.fail("last_name", "市长信箱实名写信：last_name 或 first_name 必填")
    if policy.real_name and "phone" not in fields.errors and "email" not in fields.errors:
        if not (phone or email):
            fields.fail("phone", "市长信箱需要联系方式：phone 或 email 必填")
    fields.done()
    description = required(description)
    # Chinese order: family name first, without a space between the two.
    name = "".join(part for part in (last, first) if part)
    contact = "，".join(part for part in (name, phone, email) if part) or None
    if contact is not None and len(contact) > limits.CONTACT_MAX:
        raise Invalid(
            {"email": msg("姓名、电话和邮箱合计最多 {count} 个字符", count=limits.CONTACT_MAX)}
        )
    await throttle.reserve(store, throttle.OPEN311_POSTS_PER_KEY, key.id)
    writer = await _gateway(store, key) if not policy.visitors_may_post else None
    body = description + (f"\n\n地点：{place}" if place else "")
    try:
        view = await posting.create_post(
            store,
            writer,
            code,
            {
                "title": _title(description),
                "body": body,
                "contact": contact,
                "public": public,
                "real_name": name or None,
                # GeoReport has no field for them: a request reports a
                # problem, and the bureau's moderators set the area by routing
                "letter_type": OPEN311_LETTER_TYPE,
                "area": "city",
            },
            # A report without an account counts against its key, not the gateway's address.
            address=f"open311:{key.id}",
        )
    except Invalid as error:
        raise Invalid(
            {OPEN311_FIELDS.get(name, name): why for name, why in error.fields.items()}
        ) from error
    context = await _context(store)
    notice = (
        f"请保存查询码 {view.tracking_code}：凭它在本站“查询”页（/track）查看办理进度。"
        + _notice(context, code)
    )
    # A token, so no id (the specification: one or the other); the keys stay, empty, so that
    # every answer has the same shape.
    return [
        {
            "service_request_id": None,
            "token": view.tracking_code,
            "service_notice": notice,
            "account_id": None,
        }
    ]


def _title(description: str) -> str:
    """The description's first line, without Markdown's heading or quote marks, shortened."""
    first_line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    first_line = first_line.lstrip("#> ").strip() or first_line
    return first_line if len(first_line) <= TITLE_CHARS else first_line[: TITLE_CHARS - 1] + "…"


def _flag(fields: Fields, name: str, value: Any) -> bool:
    """A form's true/false (or 1/0), or a JSON boolean; absent is false."""
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    fields.fail(name, "应为 true 或 false")
    return False


def _place(fields: Fields, data: Mapping[str, Any]) -> str | None:
    """Where, in words: address_string, and lat/long when given (both, as WGS84 degrees). Our
    cases have no location fields, so the place is added to the text of the case."""
    address = fields.take(forms.OPEN311_ADDRESS, "address_string", data.get("address_string"))
    lat, long = data.get("lat"), data.get("long")
    if lat in (None, "") and long in (None, ""):
        return address
    point = []
    for name, value, bound in (("lat", lat, 90), ("long", long, 180)):
        number = None
        if not isinstance(value, bool) and isinstance(value, (int, float, str)):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not -bound <= number <= bound:
            fields.fail(
                name,
                msg(
                    "应为 -{bound} 到 {bound} 之间的数（WGS84），lat 与 long 须一起提供",
                    bound=bound,
                ),
            )
        else:
            point.append(f"{number:.6f}")
    coordinates = f"（坐标 {point[0]}, {point[1]}）" if len(point) == 2 else ""
    return f"{address or ''}{coordinates}" or None


async def _gateway(store: Store, key: ApiKey) -> User:
    """The account an API key writes letters as, made on first use (see the module's
    docstring): disabled, with no password, named so that no one can log in as it."""
    username = f"{GATEWAY_PREFIX}{key.id}"
    user = await store.get_user_by_name(username)
    if user is not None:
        return user
    user = User(
        id=new_id(),
        username=username,
        display_name=f"{key.name}（Open311）"[:DISPLAY_NAME_MAX],
        password_hash="",
        roles=[Role.CITIZEN],
        disabled=True,
    )
    try:
        await store.add_user(user)
    except Conflict:  # another request made it first
        found = await store.get_user_by_name(username)
        assert found is not None
        return found
    return user
