"""The paths of accounts: registration, login and logout, passwords and their reset, the
caller's account and users' profiles."""

from __future__ import annotations

from forum.services import forms, recovery
from forum.web.openapi.operations import (
    PRIVATE_USER,
    item,
    json_body,
    operation,
    param,
    wrapped,
)
from forum.web.openapi.schema import (
    TIME,
    Schema,
    body_of,
    obj,
    ref,
    string,
)


NOT_COMMON = "not a common password"


def paths() -> dict[str, Schema]:
    return {
        "/api/v1/auth/register": item(
            operation(
                "post",
                "register",
                "Create a citizen account",
                tag="Accounts",
                body=json_body(
                    body_of(
                        forms.REGISTER,
                        {
                            "password": NOT_COMMON,
                            "display_name": "any script, NFKC-normalised; the username when absent. No "
                            "control or format characters (422), no department name or "
                            "office title (市长, 书记, 信访局, 局长, 主任; 422)",
                            "email": "gets a confirmation link",
                        },
                    )
                ),
                ok=(201, wrapped("user", PRIVATE_USER), "created"),
                errors=[409, 422, 429],
                description="409 when the username is taken (compared case-insensitively).",
            )
        ),
        "/api/v1/auth/login": item(
            operation(
                "post",
                "login",
                "Log in for a bearer token",
                tag="Accounts",
                body=json_body(body_of(forms.LOGIN)),
                ok=(200, ref("Login"), "logged in"),
                errors=[401, 422, 429],
                description="401 alike for a wrong password, an unknown user and a disabled "
                "account; 429 after repeated failures.",
            )
        ),
        "/api/v1/auth/logout": item(
            operation(
                "post",
                "logout",
                "End this token or session",
                tag="Accounts",
                login=True,
                ok=(204, None, "logged out; the token or session no longer works"),
            )
        ),
        "/api/v1/auth/password": item(
            operation(
                "post",
                "changePassword",
                "Change the password",
                tag="Accounts",
                login=True,
                body=json_body(body_of(forms.CHANGE_PASSWORD, {"new_password": NOT_COMMON})),
                ok=(
                    200,
                    obj(
                        {
                            "token": string(
                                description="the new bearer token; only for bearer callers"
                            ),
                            "user": ref("PrivateUser"),
                            "expires_at": TIME,
                        },
                        optional=["token"],
                    ),
                    "changed; every other session and token of the account ends, and a fresh one "
                    "replaces the caller's: a bearer caller gets its token in `token`, a caller "
                    "with the session cookie gets a new cookie and no token in the body",
                ),
                errors=[422, 429],
                description="A wrong current password is a 422 on `current_password`; repeated "
                "failures are rate limited like logins.",
            )
        ),
        "/api/v1/auth/password-reset": item(
            operation(
                "post",
                "requestPasswordReset",
                "Ask for a password-reset link by e-mail",
                tag="Accounts",
                body=json_body(body_of(forms.RESET_REQUEST)),
                ok=(
                    202,
                    obj({"message": string()}),
                    "the same answer whether or not the account "
                    "exists: a link is mailed only to an existing "
                    "account's confirmed address",
                ),
                errors=[422, 429],
                description=f"The link holds a single-use token and works for "
                f"{recovery.RESET_MINUTES} minutes. Limited per address and per name "
                f"asked for.",
            )
        ),
        "/api/v1/auth/password-reset/confirm": item(
            operation(
                "post",
                "resetPassword",
                "Choose a new password with a reset link's token",
                tag="Accounts",
                body=json_body(
                    body_of(
                        forms.RESET,
                        {"token": "the last part of the mailed link", "new_password": NOT_COMMON},
                    )
                ),
                ok=(
                    204,
                    None,
                    "the password is changed and every session and token of the "
                    "account has ended; log in again",
                ),
                errors=[422, 429],
                description="A token works once: an unknown, used or expired token is a 422 on "
                "`token`. Repeated bad tokens are rate limited per address.",
            )
        ),
        "/api/v1/me": item(
            operation(
                "get",
                "getMe",
                "The caller's account",
                tag="Accounts",
                login=True,
                ok=(200, wrapped("user", PRIVATE_USER), "the account"),
            ),
            operation(
                "patch",
                "updateMe",
                "Change the e-mail address",
                tag="Accounts",
                login=True,
                body=json_body(
                    body_of(
                        forms.CHANGE_EMAIL,
                        {"current_password": "needed: the address receives password-reset links"},
                        or_null=["email"],
                    )
                ),
                ok=(
                    200,
                    wrapped("user", PRIVATE_USER),
                    "the account; a new address waits for its confirmation link",
                ),
                errors=[422, 429],
                description="A wrong current password is a 422 on `current_password`; "
                "repeated failures are rate limited.",
            ),
        ),
        "/api/v1/users/{username}": item(
            operation(
                "get",
                "getProfile",
                "A verified answerer's public record",
                tag="Consultation",
                params=[param("username")],
                ok=(200, ref("Profile"), "the record"),
                description="404 also for accounts that never answered: only answerers have a "
                "public record.",
            )
        ),
    }
