"""The words pages show for what the code holds by name (statuses, roles, events, fields, what a
form did), and the Chinese notes and notifications the services store, shown in the page's
language. The labels are Chinese, the key of their translation: templates show them through
_() (tests/web/test_translations.py checks that each has an English one)."""

from __future__ import annotations

import re
from typing import Callable, Iterable

from forum.boards import DEPARTMENTS
from forum.model import Department, ReplyKind, Role, Status
from forum.services.notify import KIND_TEXT

STATUS_LABELS = {
    Status.PUBLISHED: "已发布",
    Status.PENDING: "待审核",
    Status.HIDDEN: "已隐藏",
    Status.OPEN: "待解答",
    Status.ANSWERED: "已解答",
    Status.RESOLVED: "已采纳",
    Status.SUBMITTED: "待受理",
    Status.ACCEPTED: "已受理",
    Status.ROUTED: "已转办",
    Status.REPLIED: "已答复",
    Status.CLOSED: "已办结",
    Status.REJECTED: "不予受理",
    Status.UNRATED: "未评价",
    Status.MERGED: "已合并",
}

REPLY_LABELS = {
    ReplyKind.COMMENT: "回复",
    ReplyKind.ANSWER: "解答",
    ReplyKind.OFFICIAL: "官方答复",
    ReplyKind.FOLLOW_UP: "追问",
    ReplyKind.INTERNAL: "协办意见",
}

# A writer's rating of the official reply (workflow.RATINGS).
RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}

# What each step of a post's history (its events) is called on the page.
EVENT_LABELS = {
    "create": "提交",
    "accept": "受理",
    "reject": "不予受理",
    "route": "转办",
    "return": "退回",
    "official": "答复",
    "follow_up": "追加说明",
    "comment": "回复",
    "rate_satisfied": "评价",
    "rate_unsatisfied": "评价（不满意，重新办理）",
    "rate_final": "评价",
    "expire": "自动办结",
    "overdue": "超期提醒",
    "hide": "隐藏",
    "restore": "恢复",
    "lock": "锁定",
    "unlock": "解锁",
    "pin": "置顶",
    "unpin": "取消置顶",
    "dismiss_flags": "处理举报",
    "edit": "修改",
    "answer": "解答",
    "accept_answer": "采纳",
    # casework of the second release
    "assign": "指定承办人",
    "extension_request": "申请延期",
    "extension_decide": "审批延期",
    "urge": "催办",
    "remind": "到期提醒",
    "supervise": "督办",
    "callback": "回访",
    "callback_close": "回访（满意，办结）",
    "callback_reopen": "回访（不满意，重新办理）",
    "merge": "合并重复件",
}

# Actions in the audit log: the events above, and what only administrators do.
AUDIT_LABELS = {
    **EVENT_LABELS,
    "publish": "发布热线答复",
    "official_reply": "发布官方答复",
    "update_user": "修改用户",
    "add_department": "新增部门",
    "save_calendar": "修改节假日安排",
    "save_sensitive_words": "修改敏感词",
    "issue_api_key": "签发 API 密钥",
    "revoke_api_key": "吊销 API 密钥",
    "add_template": "新增答复模板",
    "delete_template": "删除答复模板",
    "add_faq": "加入常见问题",
    "delete_faq": "删除常见问题",
}

# Who acted on a case, as the writer sees it (presenting._event_view): offices, not officials.
# Anyone else is named by their display name, which is not translated.
OFFICE_ACTORS = (
    "系统",
    "网友",
    "写信人",
    "市信访局",
    "承办部门",
    *(department.name for department in DEPARTMENTS),
)

# The moderation queue's sections (moderation.QueueItem.kind), in the queue's order.
QUEUE_LABELS = {
    "submitted": "待受理",
    "reopened": "不满意重办",
    "to_route": "待转办",
    "pending": "待审核",
    "flagged": "被举报",
    "overdue": "已超期",
}

# The queue's casework sections (moderation.Queue's lists), in the page's order: supervised
# cases head it, the callbacks due close it.
CASEWORK_QUEUE_LABELS = {
    "supervised": "督办件",
    "extension_requests": "延期申请",
    "callbacks_due": "待回访",
}

# A department's desk: the cases it leads and those it helps with (cases.DESK_ROLES).
DESK_ROLE_LABELS = {"lead": "主办事项", "helper": "协办事项"}

ROLE_LABELS = {
    Role.CITIZEN: "市民",
    Role.LAWYER: "律师",
    Role.EXPERT: "农业专家",
    Role.STAFF: "部门工作人员",
    Role.MODERATOR: "信访局管理员",
    Role.ADMIN: "系统管理员",
}


# A request for more time on a case (casework's extension), as its summary shows it.
EXTENSION_LABELS = {"requested": "已申请，待审批", "approved": "已批准", "refused": "未批准"}

# Names of form fields as people read them, for error summaries.
FIELD_LABELS = {
    "current_password": "当前密码",
    "new_password": "新密码",
    "title": "标题",
    "body": "正文",
    "category": "分类",
    "status": "状态",
    "cursor": "翻页标记",
    "limit": "每页数量",
    "role": "主办或协办",
    "officer": "承办人",
    "anonymous": "匿名",
    "username": "用户名",
    "password": "密码",
    "display_name": "显示名称",
    "email": "电子邮箱",
    "reply_id": "解答",
    "reason": "理由",
    "roles": "角色",
    "department": "部门",
    "specialties": "专长",
    "disabled": "停用",
    "q": "搜索",
    "board": "栏目",
    "contact": "联系方式",
    "public": "公开",
    "case_number": "热线工单号",
    "received_on": "来电日期",
    "due_days": "办理时限",
    "note": "说明",
    "score": "评价",
    "comment": "评价意见",
    "files": "附件",
    "action": "操作",
    "code": "查询码",
    "words": "敏感词",
    "holidays": "另外的节假日",
    "workdays": "另外的工作日",
    "slug": "部门代码",
    "name": "部门名称",
    "from": "开始日期",
    "to": "结束日期",
    "actor": "操作人",
    "post_id": "帖子编号",
    "form": "表单",
    "question": "问题",
    "answer": "解答",
    "key_name": "使用方名称",
    "key_id": "密钥",
    "lang": "语言",
    "care": "关怀版模式",
    "next": "返回地址",
    "sort": "排序",
}

# What a form just did, said once on the page it leads to (the flash's "done").
DONE_WORDS = {
    "accept": "已受理。",
    "reject": "已决定不予受理，写信人会看到理由。",
    "route": "已转办。",
    "return": "已退回市信访局。",
    "rate": "评价已提交，谢谢。",
    "hide": "已隐藏。",
    "restore": "已恢复显示。",
    "lock": "已锁定。",
    "unlock": "已解除锁定。",
    "pin": "已置顶。",
    "unpin": "已取消置顶。",
    "dismiss_flags": "举报已处理。",
    "attach": "附件已上传。",
    "note": "协办意见已添加。",
    "assign": "已指定承办人。",
    "extension_request": "延期申请已提交，等待市信访局审批。",
    "extension_decide": "延期申请已审批。",
    "urge": "已催办，承办部门会收到提醒。",
    "supervise": "已列为督办件。",
    "callback": "回访已记录。",
    "merge": "已合并到先前的事项，写信人会收到通知。",
    "template_added": "答复模板已保存。",
    "template_deleted": "答复模板已删除。",
    "faq_added": "已加入常见问题。",
    "faq_deleted": "常见问题已删除。",
}

# What the "write" button of each board says.
WRITE_LABELS = {
    "forum": "发帖",
    "lawyer": "提问",
    "agri": "提问",
    "mayor": "写信",
    "tax": "举报",
    "hotline": "发布答复",
}
# What a visitor is offered where citizens write: the same step, through the login.
LOGIN_LABELS = {
    "forum": "登录后发帖",
    "lawyer": "登录后提问",
    "agri": "登录后提问",
    "mayor": "登录后写信",
}


def department_names(extra: Iterable[Department] | None = ()) -> dict[str, str]:
    """Department slug -> name: the built-in departments, and any others given (the store's
    list, where a handler passes it)."""
    return {**{d.slug: d.name for d in DEPARTMENTS}, **{d.slug: d.name for d in extra or ()}}


# The notes the case services write into events themselves (forum/services/cases.py), in
# Chinese: shown in the page's language. What a moderator typed after them stays as typed.
ROUTE_NOTE = re.compile(
    r"转办至(?P<department>.+?)，(?P<days>\d+)个工作日内答复(?:。(?P<rest>.*))?", re.S
)
EXPIRE_NOTE = re.compile(r"(?P<days>\d+)日内未评价，自动办结")
OVERDUE_NOTE = "超过答复期限"
# ... and those of the casework services (forum/services/casework.py).
HELPERS_NOTE = re.compile(r"协办：(?P<helpers>[^。]+)(?:。(?P<rest>.*))?", re.S)
EXTENSION_NOTE = re.compile(r"申请延期 (?P<days>\d+) 个工作日：(?P<reason>.*)", re.S)
DECISION_NOTE = re.compile(
    r"(?:同意延期 (?P<days>\d+) 个工作日|不同意延期)(?:。(?P<rest>.*))?", re.S
)
SUPERVISE_NOTE = re.compile(r"超期超过 (?P<days>\d+) 个工作日，自动督办")
REMIND_NOTE = "即将到期，请按时答复"
CALLBACK_NOTE = re.compile(
    r"(?:(?P<unreached>未联系上写信人)|回访(?:：(?P<score>满意|基本满意|不满意))?)"
    r"(?:。(?P<rest>.*))?",
    re.S,
)
MERGE_NOTE = re.compile(r"与事项 (?P<id>[0-9a-f]+) 为同一事项，已合并办理(?:。(?P<rest>.*))?", re.S)


def event_note(action: str, note: str, translate: Callable[[str], str]) -> str:
    """An event's note for the page, `translate` being the page's `_`."""

    def then(words: str, rest: str | None) -> str:
        return translate("%(words)s。%(note)s") % {"words": words, "note": rest} if rest else words

    if action == "route" and (found := ROUTE_NOTE.fullmatch(note)):
        words = translate("转办至%(department)s，%(days)s个工作日内答复") % {
            "department": translate(found["department"]),
            "days": found["days"],
        }
        rest = found["rest"]
        if rest and (helped := HELPERS_NOTE.fullmatch(rest)):
            words = then(
                words,
                translate("协办：%(helpers)s")
                % {
                    "helpers": translate("、").join(
                        translate(name) for name in helped["helpers"].split("、")
                    )
                },
            )
            rest = helped["rest"]
        return then(words, rest)
    if action == "expire" and (found := EXPIRE_NOTE.fullmatch(note)):
        return translate("%(days)s日内未评价，自动办结") % {"days": found["days"]}
    if action == "overdue" and note == OVERDUE_NOTE:
        return translate(OVERDUE_NOTE)
    if action == "extension_request" and (found := EXTENSION_NOTE.fullmatch(note)):
        return translate("申请延期 {days} 个工作日：{reason}").format(
            days=found["days"], reason=found["reason"]
        )
    if action == "extension_decide" and (found := DECISION_NOTE.fullmatch(note)):
        words = (
            translate("同意延期 {days} 个工作日").format(days=found["days"])
            if found["days"]
            else translate("不同意延期")
        )
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
        return then(
            translate("与事项 %(id)s 为同一事项，已合并办理") % {"id": found["id"]}, found["rest"]
        )
    return note


# Notifications are stored as the Chinese words forum/services/notify.py writes: what happened,
# the post's title, and for a status or a routing what changed; shown in the page's language.
def notification_text(
    kind: str, text: str, translate: Callable[[str], str], translate_in: Callable[[str, str], str]
) -> str:
    """A notification's text for the page, `translate` and `translate_in` being its `_` and
    `_in`; a text of another shape is shown as stored."""
    head = KIND_TEXT.get(kind)
    if not head or not text.startswith(head + "："):
        return text
    title, detail = text[len(head) + 1 :], ""
    if kind in ("status", "routed", "follow_status") and title.endswith("）") and "（" in title:
        title, detail = title[:-1].rsplit("（", 1)
    values = {"what": translate(head), "title": title}
    if not detail:
        return translate("%(what)s：%(title)s") % values
    return translate("%(what)s：%(title)s（%(detail)s）") % {
        **values,
        "detail": translate_in("事件", detail),
    }
