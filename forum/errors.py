"""Domain errors. Services and stores raise them; the web layer alone turns them into HTTP."""

from __future__ import annotations

from typing import Any


# The words for codes that the store raises bare: adapters say what happened by a code and
# never choose what people read; a service that knows better passes its own message.
CODE_WORDS = {
    "username_taken": "用户名已被使用",
    "department_taken": "部门代码已存在",
    "key_taken": "密钥已存在",
    "already_exists": "内容已存在",
    "attachment_taken": "附件已存在",
    "already_flagged": "您已举报过此内容",
    "too_many_files": "附件数量超过上限",
    "stale": "内容已被他人处理，请刷新后重试",
}


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message or self.__class__.__name__)
        self.message = message or CODE_WORDS.get(code or "") or self.default_message
        if code:
            self.code = code

    default_message = "请求无效"


class NotLoggedIn(DomainError):
    status, code, default_message = 401, "not_logged_in", "请先登录"


class BadCredentials(DomainError):
    # One message for an unknown user and a wrong password, so the answer does not tell which.
    status, code, default_message = 401, "bad_credentials", "用户名或密码错误"


class Forbidden(DomainError):
    status, code, default_message = 403, "forbidden", "没有权限进行此操作"


class NotFound(DomainError):
    status, code, default_message = 404, "not_found", "内容不存在"

    def __init__(self, message: str = "", *, denied: bool = False):
        super().__init__(message)
        # The thing exists but the caller may not see it: answered as absent, logged as a
        # denial (the web layer does both).
        self.denied = denied


class Conflict(DomainError):
    status, code, default_message = 409, "conflict", "操作与当前状态冲突"

    def __init__(
        self, message: str = "", *, code: str | None = None, state: dict[str, Any] | None = None
    ):
        super().__init__(message, code=code)
        # What the thing is now, for the loser of a race to show (API.md: 409 with the state).
        self.state = state


class Invalid(DomainError):
    """One or more fields are missing or invalid; `fields` maps each field name to its message."""

    status, code, default_message = 422, "invalid", "提交的内容有误"

    def __init__(self, fields: dict[str, str]):
        self.fields = dict(fields)
        super().__init__("；".join(f"{name}: {why}" for name, why in self.fields.items()))


class TooLarge(Invalid):
    """A body over its route's limit, or a file in it over the file limit (then `fields` names
    the file field): 413."""

    status, code, default_message = 413, "too_large", "提交的内容太大"


class RateLimited(DomainError):
    status, code, default_message = 429, "rate_limited", "操作过于频繁，请稍后再试"

    def __init__(self, retry_after_seconds: int, message: str = ""):
        super().__init__(message)
        self.retry_after_seconds = max(1, int(retry_after_seconds))


class StoreUnavailable(DomainError):
    status, code, default_message = 503, "store_unavailable", "数据服务暂不可用"
