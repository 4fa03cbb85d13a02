"""Small template pieces reused across pages ({% module Name(...) %})."""
from __future__ import annotations

import collections
import datetime as dt
import re
from typing import Any, Callable
from urllib.parse import urlencode

import tornado.web

from forum.boards import DEPARTMENTS
from forum.model import ReplyKind, Role, Status
from forum.services import stats
from forum.services.notify import KIND_TEXT
from forum.web import i18n

STATUS_LABELS = {
    Status.PUBLISHED: "已发布", Status.PENDING: "待审核", Status.HIDDEN: "已隐藏",
    Status.OPEN: "待解答", Status.ANSWERED: "已解答", Status.RESOLVED: "已采纳",
    Status.SUBMITTED: "待受理", Status.ACCEPTED: "已受理", Status.ROUTED: "已转办",
    Status.REPLIED: "已答复", Status.CLOSED: "已办结", Status.REJECTED: "不予受理",
    Status.UNRATED: "未评价", Status.MERGED: "已合并",
}

REPLY_LABELS = {
    ReplyKind.COMMENT: "回复", ReplyKind.ANSWER: "解答", ReplyKind.OFFICIAL: "官方答复",
    ReplyKind.FOLLOW_UP: "追问", ReplyKind.INTERNAL: "协办意见",
}

# A writer's rating of the official reply (workflow.RATINGS).
RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}

# What each step of a post's history (its events) is called on the page.
EVENT_LABELS = {
    "create": "提交", "accept": "受理", "reject": "不予受理", "route": "转办", "return": "退回",
    "official": "答复", "follow_up": "追加说明", "comment": "回复",
    "rate_satisfied": "评价", "rate_unsatisfied": "评价（不满意，重新办理）", "rate_final": "评价",
    "expire": "自动办结", "overdue": "超期提醒", "hide": "隐藏", "restore": "恢复", "lock": "锁定", "unlock": "解锁",
    "pin": "置顶", "unpin": "取消置顶", "dismiss_flags": "处理举报", "edit": "修改",
    "answer": "解答", "accept_answer": "采纳",
    # casework of the second release
    "assign": "指定承办人", "extension_request": "申请延期", "extension_decide": "审批延期",
    "urge": "催办", "remind": "到期提醒", "supervise": "督办", "callback": "回访",
    "callback_close": "回访（满意，办结）", "callback_reopen": "回访（不满意，重新办理）",
    "merge": "合并重复件",
}

# Actions in the audit log: the events above, and what only administrators do.
AUDIT_LABELS = {
    **EVENT_LABELS, "publish": "发布热线答复", "official_reply": "发布官方答复",
    "update_user": "修改用户", "add_department": "新增部门", "save_calendar": "修改节假日安排",
    "save_sensitive_words": "修改敏感词", "issue_api_key": "签发 API 密钥",
    "revoke_api_key": "吊销 API 密钥", "add_template": "新增答复模板",
    "delete_template": "删除答复模板", "add_faq": "加入常见问题", "delete_faq": "删除常见问题",
}

# Who acted on a case, as the writer sees it (presenting._event_view): offices, not officials.
# Anyone else is named by their display name, which is not translated.
OFFICE_ACTORS = ("系统", "网友", "写信人", "市信访局", "承办部门",
                 *(department.name for department in DEPARTMENTS))

# The moderation queue's sections (moderation.QueueItem.kind), in the queue's order.
QUEUE_LABELS = {
    "submitted": "待受理", "reopened": "不满意重办", "to_route": "待转办", "pending": "待审核",
    "flagged": "被举报", "overdue": "已超期",
}

# The queue's casework sections (moderation.Queue's lists), in the page's order: supervised
# cases head it, the callbacks due close it.
CASEWORK_QUEUE_LABELS = {"supervised": "督办件", "extension_requests": "延期申请",
                         "callbacks_due": "待回访"}

# A department's desk: the cases it leads and those it helps with (cases.DESK_ROLES).
DESK_ROLE_LABELS = {"lead": "主办事项", "helper": "协办事项"}

ROLE_LABELS = {
    Role.CITIZEN: "市民", Role.LAWYER: "律师", Role.EXPERT: "农业专家",
    Role.STAFF: "部门工作人员", Role.MODERATOR: "信访局管理员", Role.ADMIN: "系统管理员",
}


CHINA_STANDARD_TIME = i18n.CHINA_STANDARD_TIME

# The labels above are Chinese, the key of their translation: templates show them through
# _() (tests/web/test_translations.py checks that each has an English one). Pages get times
# and numbers in their language from the template namespace (BaseHandler): local_time,
# local_due, month_name, number.


def local_time(stamp: dt.datetime, code: str = i18n.DEFAULT_LOCALE) -> str:
    """Times on pages are shown in China Standard Time, the portal's readers' clock."""
    return i18n.format_time(stamp, code)


def local_due(stamp: dt.datetime, code: str = i18n.DEFAULT_LOCALE) -> str:
    """A due time: due times fall at local midnight, the end of the last working day, shown as
    that day's 24:00 rather than the next day's 00:00."""
    return i18n.format_due(stamp, code)


def department_names(extra=()) -> dict[str, str]:
    """Department slug -> name: the built-in departments, and any others given (the store's
    list, where a handler passes it)."""
    return {**{d.slug: d.name for d in DEPARTMENTS}, **{d.slug: d.name for d in extra or ()}}


def duration(hours: float | None, translate: Any, number: Any) -> str:
    """A time to reply as people say it: hours up to two days, days beyond; — for none."""
    if hours is None:
        return "—"
    if hours <= 48:
        return translate("%(hours)s 小时") % {"hours": number(round(hours, 1))}
    return translate("%(days)s 天") % {"days": number(round(hours / 24, 1))}


def figure(figures: dict, key: str, how: str, translate: Any, number: Any) -> str:
    """One figure of S as the statistics tables show it: rates as percentages, except while
    every accepted case of the group is still within its time (the rate says nothing yet: —),
    hours as a duration, counts as numbers."""
    if key in figures.get("withheld", ()) and how == "count":
        return stats.WITHHELD
    if how == "rate":
        return "—" if not_yet_due(figures) else percent(figures[key])
    if how == "hours":
        return duration(figures[key], translate, number)
    return number(figures[key])


WITHHELD = stats.WITHHELD


def score(figures: dict, key: str, number: Any) -> str:
    """How many times a group's cases were rated `key` (a score of workflow.RATINGS)."""
    if f"satisfaction.{key}" in figures.get("withheld", ()):
        return stats.WITHHELD
    return number(figures["satisfaction"].get(key, 0))


def withheld(rows) -> bool:
    """Whether any row's figures (the second item of each) had a figure withheld."""
    return any(row[1].get("withheld") for row in rows)


def not_yet_due(figures: dict) -> bool:
    """Whether every accepted case of a group is still within its time to reply."""
    return bool(figures["accepted"]) and figures.get("not_yet_due") == figures["accepted"]


def percent(rate: float | None) -> str:
    """A rate (0..1) as a percentage with one decimal; no rate (nothing to divide by) as —."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def file_size(size: int) -> str:
    """A file's size in KB (at least 1), or MB from 1000 KB on."""
    if size >= 1000 * 1000:
        return f"{size / 1000 / 1000:.1f} MB"
    return f"{max(1, round(size / 1000))} KB"


def failed_form(values: dict, errors: dict) -> str | None:
    """Which form on the post page the errors belong to: each form names itself in a hidden
    `form` field."""
    return values.get("form") if errors else None


class Piece(tornado.web.UIModule):
    """A module of a page (a list item, a reply, a badge, a follow button): rendered with the
    page's template namespace, built once per request. Tornado's render_string builds it
    again for every module, and a board page has twenty-five."""

    # Any, not bytes: a module's render() is typed as giving str, and Tornado takes the bytes
    # its own render_string gives (decoding them on every item would cost the page).
    def render_string(self, path: str, **kwargs: Any) -> Any:
        handler = self.handler
        where = handler.get_template_path()
        loader = (None if where is None
                  else tornado.web.RequestHandler._template_loaders.get(where))
        if loader is None:  # the page's own template is not loaded yet: Tornado's way
            return super().render_string(path, **kwargs)
        namespace = handler.__dict__.get("_piece_namespace")
        if namespace is None:
            namespace = handler.get_template_namespace()
            setattr(handler, "_piece_namespace", namespace)  # kept for the request's next piece
        return loader.load(path).generate(**{**namespace, **kwargs})

    def kept(self, inputs: tuple | None, render: Callable[[], Any]) -> Any:
        """What `render` makes, from the application's shelf of fragments when these exact
        inputs (with the piece and the language) were rendered before. `inputs` must hold
        everything the piece's template reads, so that it is a pure function of them: a
        masked title and the original are different inputs, and never share a fragment.
        None: not kept (the piece holds something of one request, such as a form's token)."""
        shelf: Fragments | None = self.handler.settings.get("fragments")
        if shelf is None or inputs is None:
            return render()
        key = (type(self).__name__, self.locale.code, *inputs)
        found = shelf.get(key)
        if found is None:
            found = render()
            shelf.put(key, found)
        return found


class StatusBadge(Piece):
    def render(self, status: Status) -> str:
        return self.render_string("modules/status_badge.html", status=status,
                                  label=i18n.translate_in(self.locale, "状态",
                                                          STATUS_LABELS[status]))


class Fragments:
    """Rendered list items and replies, keyed by everything they are made from (Piece.kept);
    bounded, least recently used out first. A board page or a post page read by logged-in
    readers shows the same items to most of them: each is rendered once, not per request.
    Nothing here can be stale: a changed post is a different key (its title, its count of
    replies, ...), and the old fragment is merely never asked for again."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self._items: collections.OrderedDict[tuple, Any] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple) -> Any:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple, fragment: Any) -> None:
        self._items[key] = fragment
        if len(self._items) > self.max_entries:
            self._items.popitem(last=False)


def _author_inputs(author: Any) -> tuple | None:
    if author is None:
        return None
    return (author.username, author.display_name, author.badge, tuple(author.specialties))


class PostSummary(Piece):
    """One post in a list. `departments` (slug -> name), given for case boards, adds who
    handles a case, when it was answered and whether it is overdue."""

    def render(self, view, show_board: bool = False,
               departments: dict[str, str] | None = None) -> str:
        post = view.post
        # Everything templates/modules/post_summary.html reads.
        inputs = (post.id, post.title, post.pinned, post.locked, post.status, view.overdue,
                  view.may_rate, post.board if show_board else None,
                  _author_inputs(view.author), post.created_at, post.reply_count, post.category,
                  departments is not None,
                  departments.get(post.department, post.department)
                  if departments is not None and post.department else None, post.replied_at)
        return self.kept(inputs, lambda: self.render_string(
            "modules/post_summary.html", view=view, post=post, show_board=show_board,
            departments=departments))


class ReplyItem(Piece):
    """One reply; with `post` and `may_accept` an answer also offers the asker's accept form.
    On a case (`case`), an official reply is signed by its department (`department`, a name),
    not by the official, and the writer's follow-ups are 追加说明."""

    def render(self, view, post=None, may_accept: bool = False, case: bool = False,
               department: str | None = None) -> str:
        reply = view.reply
        label = REPLY_LABELS[reply.kind]
        if case and reply.kind is ReplyKind.FOLLOW_UP:
            label = "追加说明"
        # Everything templates/modules/reply_item.html reads; the accept form carries this
        # request's XSRF token, so a reply that shows it is rendered every time.
        inputs = None if may_accept else (
            reply.id, reply.kind, reply.accepted, reply.html, reply.created_at,
            post.accepted_reply_id if post is not None else None, case, department, label,
            _author_inputs(view.author))
        return self.kept(inputs, lambda: self.render_string(
            "modules/reply_item.html", view=view, reply=reply, label=self.locale.translate(label),
            post=post, may_accept=may_accept, case=case, department=department))


EXTENSION_LABELS = {"requested": "已申请，待审批", "approved": "已批准", "refused": "未批准"}


class CaseSummary(Piece):
    """A case's state at a glance: status, department, due times, publicity, contact, the
    reason of a rejection or hiding, the rating. `departments`: the store's list, when known;
    `show_contact`: False where the contact is not needed (following by tracking code)."""

    def render(self, view, departments=(), show_contact: bool = True) -> str:
        return self.render_string("modules/case_summary.html", view=view, post=view.post,
                                  names={slug: self.locale.translate(name) for slug, name
                                         in department_names(departments).items()},
                                  ratings=RATING_LABELS, EXTENSION_LABELS=EXTENSION_LABELS,
                                  show_contact=show_contact)


# The notes the case services write into events themselves (forum/services/cases.py), in
# Chinese: shown in the page's language. What a moderator typed after them stays as typed.
ROUTE_NOTE = re.compile(r"转办至(?P<department>.+?)，(?P<days>\d+)个工作日内答复(?:。(?P<rest>.*))?",
                        re.S)
EXPIRE_NOTE = re.compile(r"(?P<days>\d+)日内未评价，自动办结")
OVERDUE_NOTE = "超过答复期限"
# ... and those of the casework services (forum/services/casework.py).
HELPERS_NOTE = re.compile(r"协办：(?P<helpers>[^。]+)(?:。(?P<rest>.*))?", re.S)
EXTENSION_NOTE = re.compile(r"申请延期 (?P<days>\d+) 个工作日：(?P<reason>.*)", re.S)
DECISION_NOTE = re.compile(r"(?:同意延期 (?P<days>\d+) 个工作日|不同意延期)(?:。(?P<rest>.*))?", re.S)
SUPERVISE_NOTE = re.compile(r"超期超过 (?P<days>\d+) 个工作日，自动督办")
REMIND_NOTE = "即将到期，请按时答复"
CALLBACK_NOTE = re.compile(r"(?:(?P<unreached>未联系上写信人)|回访(?:：(?P<score>满意|基本满意|不满意))?)"
                           r"(?:。(?P<rest>.*))?", re.S)
MERGE_NOTE = re.compile(r"与事项 (?P<id>[0-9a-f]+) 为同一事项，已合并办理(?:。(?P<rest>.*))?", re.S)


def event_note(action: str, note: str, translate) -> str:
    """An event's note for the page, `translate` being the page's `_`."""
    def then(words: str, rest: str | None) -> str:
        return translate("%(words)s。%(note)s") % {"words": words, "note": rest} if rest else words

    if action == "route" and (found := ROUTE_NOTE.fullmatch(note)):
        words = translate("转办至%(department)s，%(days)s个工作日内答复") % {
            "department": translate(found["department"]), "days": found["days"]}
        rest = found["rest"]
        if rest and (helped := HELPERS_NOTE.fullmatch(rest)):
            words = then(words, translate("协办：%(helpers)s") % {"helpers": translate("、").join(
                translate(name) for name in helped["helpers"].split("、"))})
            rest = helped["rest"]
        return then(words, rest)
    if action == "expire" and (found := EXPIRE_NOTE.fullmatch(note)):
        return translate("%(days)s日内未评价，自动办结") % {"days": found["days"]}
    if action == "overdue" and note == OVERDUE_NOTE:
        return translate(OVERDUE_NOTE)
    if action == "extension_request" and (found := EXTENSION_NOTE.fullmatch(note)):
        return translate("申请延期 {days} 个工作日：{reason}").format(days=found["days"],
                                                                reason=found["reason"])
    if action == "extension_decide" and (found := DECISION_NOTE.fullmatch(note)):
        words = (translate("同意延期 {days} 个工作日").format(days=found["days"])
                 if found["days"] else translate("不同意延期"))
        return then(words, found["rest"])
    if action == "supervise" and (found := SUPERVISE_NOTE.fullmatch(note)):
        return translate("超期超过 {days} 个工作日，自动督办").format(days=found["days"])
    if action == "remind" and note == REMIND_NOTE:
        return translate(REMIND_NOTE)
    if action.startswith("callback") and (found := CALLBACK_NOTE.fullmatch(note)):
        if found["unreached"]:
            words = translate("未联系上写信人")
        elif found["score"]:
            words = translate("回访：%(score)s") % {"score": translate(found["score"])}
        else:
            words = translate("回访")
        return then(words, found["rest"])
    if action == "merge" and (found := MERGE_NOTE.fullmatch(note)):
        return then(translate("与事项 %(id)s 为同一事项，已合并办理") % {"id": found["id"]},
                    found["rest"])
    return note


# Notifications are stored as the Chinese words forum/services/notify.py writes: what happened,
# the post's title, and for a status or a routing what changed; shown in the page's language.
def notification_text(kind: str, text: str, translate, translate_in) -> str:
    """A notification's text for the page, `translate` and `translate_in` being its `_` and
    `_in`; a text of another shape is shown as stored."""
    head = KIND_TEXT.get(kind)
    if not head or not text.startswith(head + "："):
        return text
    title, detail = text[len(head) + 1:], ""
    if kind in ("status", "routed", "follow_status") and title.endswith("）") and "（" in title:
        title, detail = title[:-1].rsplit("（", 1)
    values = {"what": translate(head), "title": title}
    if not detail:
        return translate("%(what)s：%(title)s") % values
    return translate("%(what)s：%(title)s（%(detail)s）") % {**values,
                                                         "detail": translate_in("事件", detail)}


class Timeline(Piece):
    """A case's events, oldest first: when, who (by office), what, and the note."""

    def render(self, events, heading_id: str = "timeline-heading") -> str:
        return self.render_string("modules/timeline.html", events=events, labels=EVENT_LABELS,
                                  offices=OFFICE_ACTORS, heading_id=heading_id,
                                  event_note=event_note)


class FollowButton(Piece):
    """关注 / 已关注（取消关注）: a form that follows `target`, or, when `subscription` is the
    viewer's, one that unfollows it; both come back to `back`. Visitors get a link to log in
    (and no form: the page stays the same for every visitor, so it may be cached)."""

    def render(self, target: str, subscription, back: str, name: str = "",
               flash: dict | None = None) -> str:
        return self.render_string("modules/follow_button.html", target=target,
                                  subscription=subscription, back=back, name=name,
                                  flash=flash or {})


class Pagination(Piece):
    """下一页, and where the list can go back (`prev_cursor`), 上一页; 回到第一页 when deep."""

    def render(self, next_cursor: str | None, path: str, prev_cursor: str | None = None,
               **query: str | None) -> str:
        params = {k: v for k, v in query.items() if v}
        next_url = prev_url = None
        if next_cursor:
            next_url = path + "?" + urlencode({**params, "cursor": next_cursor})
        if prev_cursor:
            prev_url = path + "?" + urlencode({**params, "before": prev_cursor})
        first_url = path + ("?" + urlencode(params) if params else "")
        deep = "cursor" in self.request.arguments or "before" in self.request.arguments
        return self.render_string("modules/pagination.html", next_url=next_url,
                                  prev_url=prev_url, first_url=first_url, deep=deep)


# Names of form fields as people read them, for error summaries.
FIELD_LABELS = {
    "current_password": "当前密码", "new_password": "新密码",
    "title": "标题", "body": "正文", "category": "分类", "status": "状态", "cursor": "翻页标记",
    "limit": "每页数量", "role": "主办或协办", "officer": "承办人", "anonymous": "匿名", "username": "用户名", "password": "密码",
    "display_name": "显示名称", "email": "电子邮箱",
    "reply_id": "解答", "reason": "理由", "roles": "角色", "department": "部门",
    "specialties": "专长", "disabled": "停用", "q": "搜索", "board": "栏目",
    "contact": "联系方式", "public": "公开", "case_number": "热线工单号", "received_on": "来电日期",
    "due_days": "办理时限", "note": "说明", "score": "评价", "comment": "评价意见", "files": "附件",
    "action": "操作", "code": "查询码", "words": "敏感词", "holidays": "另外的节假日",
    "workdays": "另外的工作日", "slug": "部门代码", "name": "部门名称", "from": "开始日期",
    "to": "结束日期", "actor": "操作人", "post_id": "帖子编号", "form": "表单",
    "question": "问题", "answer": "解答",
    "key_name": "使用方名称", "key_id": "密钥", "lang": "语言", "care": "关怀版模式",
    "next": "返回地址", "sort": "排序",
}


class ErrorSummary(Piece):
    """The list of wrong fields at the top of a form; each links to its field when the form
    shows it (`linked`, all of them when not given)."""

    def render(self, errors: dict[str, str], linked=None) -> str:
        return self.render_string("modules/error_summary.html", errors=errors,
                                  labels=FIELD_LABELS,
                                  linked=set(errors) if linked is None else set(linked))


# What a form just did, said once on the page it leads to (the flash's "done").
DONE_WORDS = {
    "accept": "已受理。", "reject": "已决定不予受理，写信人会看到理由。", "route": "已转办。",
    "return": "已退回市信访局。", "rate": "评价已提交，谢谢。", "hide": "已隐藏。",
    "restore": "已恢复显示。", "lock": "已锁定。", "unlock": "已解除锁定。", "pin": "已置顶。",
    "unpin": "已取消置顶。", "dismiss_flags": "举报已处理。", "attach": "附件已上传。",
    "note": "协办意见已添加。", "assign": "已指定承办人。", "extension_request": "延期申请已提交，等待市信访局审批。",
    "extension_decide": "延期申请已审批。", "urge": "已催办，承办部门会收到提醒。", "supervise": "已列为督办件。",
    "callback": "回访已记录。", "merge": "已合并到先前的事项，写信人会收到通知。",
    "template_added": "答复模板已保存。", "template_deleted": "答复模板已删除。",
    "faq_added": "已加入常见问题。", "faq_deleted": "常见问题已删除。",
}


class Done(Piece):
    """The confirmation after a form (what happened), with the way back to the work list for
    officials; a welcome after registering."""

    def render(self, flash: dict[str, Any], user: Any) -> str:
        done = flash.get("done")
        back = None
        if done and user is not None:
            if user.moderates:
                back = "/moderation"
            elif user.has(Role.STAFF) and user.department:
                back = f"/departments/{user.department}"
        return self.render_string("modules/done.html", done=DONE_WORDS.get(done or ""),
                                  welcome=flash.get("welcome"), back=back)


class Accountability(Piece):
    """This year's received, replied, 办结率 and satisfaction, linking to the statistics: on the
    home page for the case boards together, on a case board for itself."""

    def render(self, figures: Any, board_name: str | None = None,
               department_name: str | None = None) -> str:
        return self.render_string("modules/accountability.html", figures=figures,
                                  board_name=board_name, department_name=department_name)


class FieldError(Piece):
    def render(self, errors: dict[str, str], name: str) -> str:
        return self.render_string("modules/field_error.html", name=name,
                                  message=errors.get(name))


# Charts on the statistics page: inline SVG drawn by the template from this geometry. Widths
# are percentages of the chart's width, so text keeps its size on any screen; heights are px.
BAR_ROW = 48            # one department: its name on a line, its bar below
BAR_TRACK = 80.0        # percent of the width the longest bar (100%) takes; the rest is for labels


def _pct(value: float) -> str:
    return f"{value:.2f}%"


def bar_chart(rows) -> dict:
    """Horizontal bars for rates: `rows` are (label, rate 0..1 or None) pairs, in order. Each bar
    has its label above it and its value printed after its end."""
    bars = []
    for i, (label, rate) in enumerate(rows):
        share = min(max(rate or 0.0, 0.0), 1.0) * BAR_TRACK
        top = i * BAR_ROW
        bars.append({"label": label, "rate": rate, "text": percent(rate),
                     "label_y": top + 16, "bar_y": top + 22, "bar_height": 16,
                     "width": _pct(share), "text_x": _pct(share), "text_y": top + 35})
    rated = [b for b in bars if b["rate"] is not None]
    return {"bars": bars, "height": len(bars) * BAR_ROW + 4, "track": _pct(BAR_TRACK),
            "best": max(rated, key=lambda b: b["rate"], default=None),
            "worst": min(rated, key=lambda b: b["rate"], default=None)}


def _nice_top(largest: float) -> tuple[int, int]:
    """A round axis top at or above `largest`, and its step: at most four steps of 1, 2 or 5
    times a power of ten."""
    magnitude = 1
    while True:
        for unit in (1, 2, 5):
            step = unit * magnitude
            if largest <= step * 4:
                steps = max(1, -(-int(largest) // step))
                return step * steps, step
        magnitude *= 10


LINE_LEFT, LINE_WIDTH = 9.0, 88.0   # percent: room for the axis numbers on the left
LINE_TOP, LINE_PLOT = 12, 160       # px: the plot's top and height; month names go below
LINE_VIEW = 1000                    # the inner drawing's width in its own units (stretched)


def line_chart(months, keys=("received", "closed"), code: str = i18n.DEFAULT_LOCALE) -> dict:
    """Lines per month: `months` are (YYYY-MM, figures dict) pairs, oldest first (months missing
    between them count as zero); one series per key of the figures. Lines are drawn in a stretched inner SVG (`view`, `points`); dots, axis
    numbers and month names in the outer one at percentages (`x`), so they keep their shape."""
    months = _every_month(list(months), keys)
    n = len(months)
    if n == 0:  # no cases yet: an empty chart, and the page says so
        return {"series": [], "labels": [], "ticks": [], "view": LINE_VIEW, "empty": True}
    largest = max((f[k] or 0 for _, f in months for k in keys), default=0)
    top, step = _nice_top(max(largest, 1))
    fracs = [i / (n - 1) if n > 1 else 0.5 for i in range(n)]

    def y(value) -> float:
        return round(LINE_PLOT - (value or 0) / top * LINE_PLOT, 1)

    series = []
    for key in keys:
        values = [f[key] or 0 for _, f in months]
        series.append({
            "key": key,
            "points": " ".join(f"{round(fr * LINE_VIEW, 1)},{y(v)}"
                               for fr, v in zip(fracs, values)),
            "dots": [{"x": _pct(LINE_LEFT + fr * LINE_WIDTH), "y": round(LINE_TOP + y(v), 1),
                      "value": v, "month": month}
                     for fr, v, (month, _) in zip(fracs, values, months)],
            "least": min(values, default=0), "most": max(values, default=0),
            "last": values[-1] if values else 0,
        })
    # Month names: about 12 fit a wide chart, 6 a phone; the newest month is always named.
    # A label carries its year where the year changes from the label before it; on a phone,
    # from the phone's label before it (`year_narrow_only`: a year only a phone needs).
    wide = -(-n // 12)
    narrow = wide * -(-n // (wide * 6))
    labels, year_before, year_before_major = [], None, None
    for i, (month, _) in enumerate(months):
        back = n - 1 - i
        if back % wide:
            continue
        minor = bool(back % narrow)
        year = month[:4]
        wide_year = year != year_before
        narrow_year = not minor and year != year_before_major
        text = (i18n.MONTHS_EN[int(month[5:]) - 1] if code.startswith("en")
                else f"{int(month[5:])}月")
        labels.append({"x": _pct(LINE_LEFT + fracs[i] * LINE_WIDTH), "text": text,
                       "year": year if wide_year or narrow_year else None,
                       "year_narrow_only": narrow_year and not wide_year, "minor": minor})
        year_before = year
        if not minor:
            year_before_major = year
    ticks = [{"value": v, "y": round(LINE_TOP + y(v), 1)} for v in range(0, top + 1, step)]
    return {"series": series, "labels": labels, "ticks": ticks, "top": top,
            "view": f"0 0 {LINE_VIEW} {LINE_PLOT}", "plot_x": _pct(LINE_LEFT),
            "plot_width": _pct(LINE_WIDTH), "plot_end": _pct(LINE_LEFT + LINE_WIDTH),
            "plot_top": LINE_TOP, "plot_height": LINE_PLOT,
            "axis_x": _pct(LINE_LEFT - 1.5), "label_y": LINE_TOP + LINE_PLOT + 20,
            "height": LINE_TOP + LINE_PLOT + 48,
            "first": months[0][0] if months else None, "last": months[-1][0] if months else None}


def _every_month(months: list, keys) -> list:
    """The months from the first to the last, those without cases as zeros, so that the line's
    steps are equal spans of time."""
    if not months:
        return months
    have = dict(months)
    year, month = int(months[0][0][:4]), int(months[0][0][5:7])
    filled = []
    while True:
        name = f"{year:04d}-{month:02d}"
        filled.append((name, have.get(name) or {key: 0 for key in keys}))
        if name >= months[-1][0]:
            return filled
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def month_name(month: str, code: str = i18n.DEFAULT_LOCALE) -> str:
    """2025-03 as 2025年3月 (Mar 2025 in English)."""
    return i18n.format_month(month, code)


# What the "write" button of each board says.
WRITE_LABELS = {"forum": "发帖", "lawyer": "提问", "agri": "提问", "mayor": "写信", "tax": "举报",
                "hotline": "发布答复"}
# What a visitor is offered where citizens write: the same step, through the login.
LOGIN_LABELS = {"forum": "登录后发帖", "lawyer": "登录后提问", "agri": "登录后提问",
                "mayor": "登录后写信"}


def write_link(board: Any, user: Any) -> tuple[str, str, bool] | None:
    """(address, label, primary) of the board's write button for this viewer: straight to the
    form for those who may post, to the login (coming back to the form) for visitors where
    citizens may post; None where neither."""
    form = f"/boards/{board.slug}/new"
    if board.may_post:
        return form, WRITE_LABELS.get(board.slug, "发帖"), True
    if (user is None and board.settings.is_open and Role.CITIZEN in board.policy.posters
            and board.slug in LOGIN_LABELS):
        return "/login?" + urlencode({"next": form}), LOGIN_LABELS[board.slug], False
    return None


class FiguresTable(Piece):
    """A table of statistics figures, one row per board, department, area, type or month, with
    its caption, a cue to scroll it on a phone and a link to download it as CSV. Rows are
    (label, figures), (label, figures, address the label links to) or (label, figures, address
    or None, a cell under `extra_heading`)."""

    def render(self, caption_id: str, caption: str, heading: str, rows, columns, scores,
               show, csv_url: str | None = None, extra_heading: str | None = None) -> str:
        return self.render_string("modules/figures_table.html", caption_id=caption_id,
                                  caption=caption, heading=heading, rows=rows, columns=columns,
                                  scores=scores, show=show, csv_url=csv_url,
                                  extra_heading=extra_heading,
                                  waiting=any(not_yet_due(row[1]) for row in rows),
                                  withheld=withheld(rows))
