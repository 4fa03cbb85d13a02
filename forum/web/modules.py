"""Small template pieces reused across pages ({% module Name(...) %})."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import tornado.web

from forum.model import ReplyKind, Role, Status

STATUS_LABELS = {
    Status.PUBLISHED: "已发布", Status.PENDING: "待审核", Status.HIDDEN: "已隐藏",
    Status.OPEN: "待解答", Status.ANSWERED: "已解答", Status.RESOLVED: "已采纳",
    Status.SUBMITTED: "待受理", Status.ACCEPTED: "已受理", Status.ROUTED: "已转办",
    Status.REPLIED: "已答复", Status.CLOSED: "已办结", Status.REJECTED: "不予受理",
}

REPLY_LABELS = {
    ReplyKind.COMMENT: "回复", ReplyKind.ANSWER: "解答", ReplyKind.OFFICIAL: "官方答复",
    ReplyKind.FOLLOW_UP: "追问",
}

ROLE_LABELS = {
    Role.CITIZEN: "市民", Role.LAWYER: "律师", Role.EXPERT: "农业专家",
    Role.STAFF: "部门工作人员", Role.MODERATOR: "信访局管理员", Role.ADMIN: "系统管理员",
}


CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


def local_time(stamp: dt.datetime) -> str:
    """Times on pages are shown in China Standard Time, the portal's readers' clock."""
    return stamp.astimezone(CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M")


class StatusBadge(tornado.web.UIModule):
    def render(self, status: Status) -> str:
        return self.render_string("modules/status_badge.html", status=status,
                                  label=STATUS_LABELS[status])


class PostSummary(tornado.web.UIModule):
    def render(self, view, show_board: bool = False) -> str:
        return self.render_string("modules/post_summary.html", view=view, post=view.post,
                                  show_board=show_board, local_time=local_time)


class ReplyItem(tornado.web.UIModule):
    """One reply; with `post` and `may_accept` an answer also offers the asker's accept form."""

    def render(self, view, post=None, may_accept: bool = False) -> str:
        return self.render_string("modules/reply_item.html", view=view, reply=view.reply,
                                  label=REPLY_LABELS[view.reply.kind], local_time=local_time,
                                  post=post, may_accept=may_accept)


class Pagination(tornado.web.UIModule):
    def render(self, next_cursor: str | None, path: str, **query: str | None) -> str:
        params = {k: v for k, v in query.items() if v}
        next_url = None
        if next_cursor:
            next_url = path + "?" + urlencode({**params, "cursor": next_cursor})
        first_url = path + ("?" + urlencode(params) if params else "")
        return self.render_string("modules/pagination.html", next_url=next_url,
                                  first_url=first_url,
                                  deep="cursor" in self.request.arguments)


# Names of form fields as people read them, for error summaries.
FIELD_LABELS = {
    "title": "标题", "body": "正文", "category": "分类", "status": "状态", "cursor": "翻页标记",
    "limit": "每页数量", "anonymous": "匿名", "username": "用户名", "password": "密码",
    "display_name": "显示名称", "email": "电子邮箱",
    "reply_id": "解答", "reason": "理由", "roles": "角色", "department": "部门",
    "specialties": "专长", "disabled": "停用", "q": "搜索", "board": "栏目",
}


class ErrorSummary(tornado.web.UIModule):
    """The list of wrong fields at the top of a form; each links to its field when the form
    shows it (`linked`, all of them when not given)."""

    def render(self, errors: dict[str, str], linked=None) -> str:
        return self.render_string("modules/error_summary.html", errors=errors,
                                  labels=FIELD_LABELS,
                                  linked=set(errors) if linked is None else set(linked))


class FieldError(tornado.web.UIModule):
    def render(self, errors: dict[str, str], name: str) -> str:
        return self.render_string("modules/field_error.html", name=name,
                                  message=errors.get(name))
