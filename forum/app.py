"""make_app(config, store): the Tornado application and its whole URL table."""

from __future__ import annotations

import tornado.web

from forum import boards
from forum.config import Config
from forum.security import Passwords
from forum.services import accounts, stats_reports
from forum.store.base import Store
from forum.web import (
    admin_api,
    access,
    account_pages,
    admin_pages,
    api,
    case_pages,
    casework_api,
    casework_pages,
    feeds,
    figures,
    health,
    i18n,
    me_pages,
    metrics,
    modules,
    open311,
    openapi,
    pages,
    post_pages,
    search_pages,
)
from forum.store.kept import KeptReads
from forum.web import static
from forum.web.base import NotFoundApiHandler
from forum.web.kept_answers import KeptAnswers
from forum.web.pagecache import PageCache
from forum.web.reader_pages import ReaderPages
from forum.web.signed_cookies import CheckedCookies

ID = r"([0-9a-fA-F]{24})"
SLUG = r"([a-z0-9_-]{1,32})"
NAME = r"([A-Za-z0-9_]{1,32})"


def routes() -> list[tuple[str, type]]:
    return [
        # JSON API (API.md)
        (r"/api/v1/auth/register", api.RegisterHandler),
        (r"/api/v1/auth/login", api.LoginHandler),
        (r"/api/v1/auth/logout", api.LogoutHandler),
        (r"/api/v1/auth/password", api.PasswordHandler),
        (r"/api/v1/auth/password-reset", api.PasswordResetHandler),
        (r"/api/v1/auth/password-reset/confirm", api.PasswordResetConfirmHandler),
        (r"/api/v1/me", api.MeHandler),
        (r"/api/v1/boards", api.BoardsHandler),
        (rf"/api/v1/boards/{SLUG}/posts", api.BoardPostsHandler),
        (rf"/api/v1/posts/{ID}", api.PostHandler),
        (rf"/api/v1/posts/{ID}/replies", api.RepliesHandler),
        (rf"/api/v1/posts/{ID}/accept", api.AcceptHandler),
        (rf"/api/v1/posts/{ID}/flag", api.FlagHandler),
        (r"/api/v1/workspace", api.WorkspaceHandler),
        (rf"/api/v1/users/{NAME}", api.UserProfileHandler),
        (r"/api/v1/admin/users", admin_api.AdminUsersHandler),
        (rf"/api/v1/admin/users/{NAME}", admin_api.AdminUserHandler),
        (rf"/api/v1/posts/{ID}/moderate", api.ModerateHandler),
        (rf"/api/v1/posts/{ID}/route", api.RouteHandler),
        (rf"/api/v1/posts/{ID}/return", api.ReturnHandler),
        (rf"/api/v1/posts/{ID}/rating", api.RatingHandler),
        *casework_api.routes(ID),
        (rf"/api/v1/posts/{ID}/attachments", api.AttachmentsHandler),
        (rf"/api/v1/attachments/{ID}", api.AttachmentHandler),
        (r"/api/v1/track/([^/]{1,64})", api.TrackHandler),
        (r"/api/v1/moderation/queue", api.QueueHandler),
        (r"/api/v1/departments", api.DepartmentsHandler),
        (rf"/api/v1/departments/{SLUG}/cases", api.DepartmentCasesHandler),
        (rf"/api/v1/departments/{SLUG}/record", api.DepartmentRecordHandler),
        (rf"/api/v1/departments/{SLUG}/templates", api.TemplatesHandler),
        (rf"/api/v1/departments/{SLUG}/templates/{ID}", api.TemplateHandler),
        (r"/api/v1/faq", api.FaqHandler),
        (rf"/api/v1/faq/{ID}", api.FaqEntryHandler),
        (r"/api/v1/stats", api.StatsHandler),
        (r"/api/v1/stats\.csv", api.StatsCsvHandler),
        (r"/api/v1/search", api.SearchHandler),
        (r"/api/v1/search/similar", api.SimilarHandler),
        (r"/api/v1/notifications", api.NotificationsHandler),
        (r"/api/v1/notifications/read", api.NotificationsReadHandler),
        (r"/api/v1/subscriptions", api.SubscriptionsHandler),
        (rf"/api/v1/subscriptions/{ID}", api.SubscriptionHandler),
        (r"/api/v1/admin/audit", admin_api.AuditHandler),
        (r"/api/v1/admin/departments", admin_api.AdminDepartmentsHandler),
        (rf"/api/v1/admin/boards/{SLUG}", admin_api.AdminBoardHandler),
        (r"/api/v1/admin/sensitive-words", admin_api.SensitiveWordsHandler),
        (r"/api/v1/admin/calendar", admin_api.CalendarHandler),
        (r"/api/v1/preview", api.PreviewHandler),
        (r"/api/v1/admin/api-keys", admin_api.ApiKeysHandler),
        (rf"/api/v1/admin/api-keys/{ID}", admin_api.ApiKeyHandler),
        (r"/api/openapi\.json", openapi.OpenApiHandler),
        (r"/api/docs", openapi.ApiDocsPage),
        (r"/api/.*", NotFoundApiHandler),
        (r"/healthz", health.HealthHandler),
        (r"/(favicon\.ico)", static.Favicon),
        # Open311 GeoReport v2 (forum/web/open311.py), before the pages' catch-all
        *open311.routes(),
        (r"/metrics", metrics.MetricsHandler),
        # pages
        (r"/", post_pages.HomePage),
        (rf"/boards/{SLUG}", post_pages.BoardPage),
        (rf"/boards/{SLUG}/new", post_pages.NewPostPage),
        (rf"/boards/{SLUG}/feed\.atom", feeds.BoardFeedHandler),
        (rf"/posts/{ID}", post_pages.PostPage),
        (rf"/posts/{ID}/edit", post_pages.EditPostPage),
        (rf"/posts/{ID}/accept", post_pages.AcceptPage),
        (rf"/posts/{ID}/moderate", post_pages.ModeratePage),
        (rf"/posts/{ID}/route", case_pages.RoutePage),
        (rf"/posts/{ID}/return", case_pages.ReturnPage),
        (rf"/posts/{ID}/rating", case_pages.RatingPage),
        (rf"/posts/{ID}/attachments", post_pages.AttachPage),
        *casework_pages.routes(ID),
        (rf"/posts/{ID}/faq", post_pages.FaqAddPage),
        (rf"/faq/{ID}/delete", post_pages.FaqDeletePage),
        (rf"/attachments/{ID}", post_pages.AttachmentPage),
        (r"/track", case_pages.TrackPage),
        (r"/track/supplement", case_pages.TrackSupplementPage),
        (r"/track/([^/]{1,64})", case_pages.TrackPage),
        (r"/moderation", case_pages.ModerationPage),
        (rf"/departments/{SLUG}", case_pages.DepartmentPage),
        (rf"/departments/{SLUG}/templates", case_pages.DepartmentTemplatesPage),
        (rf"/departments/{SLUG}/templates/{ID}/delete", case_pages.DepartmentTemplatePage),
        (r"/stats", case_pages.StatsPage),
        (r"/stats/([^/]{1,16})", case_pages.StatsMonthPage),
        (r"/admin/audit", admin_pages.AuditPage),
        (r"/admin/settings", admin_pages.SettingsPage),
        (rf"/posts/{ID}/flag", post_pages.FlagPage),
        (r"/workspace", post_pages.WorkspacePage),
        (rf"/users/{NAME}", post_pages.ProfilePage),
        (r"/admin", admin_pages.AdminPage),
        (rf"/admin/users/{NAME}", admin_pages.AdminUserPage),
        (r"/login", account_pages.LoginPage),
        (r"/register", account_pages.RegisterPage),
        (r"/logout", account_pages.LogoutPage),
        (r"/password", account_pages.PasswordPage),
        (r"/forgot-password", account_pages.ForgotPasswordPage),
        (r"/reset-password/([A-Za-z0-9_-]{20,100})", account_pages.ResetPasswordPage),
        (r"/me", me_pages.MePage),
        (r"/subscriptions", me_pages.SubscriptionsPage),
        (rf"/subscriptions/{ID}/delete", me_pages.UnfollowPage),
        (rf"/me/notifications/{ID}", me_pages.NotificationPage),
        (r"/search", search_pages.SearchPage),
        (r"/search/similar", search_pages.SimilarPage),
        (r"/confirm-email/([A-Za-z0-9_-]{20,100})", account_pages.ConfirmEmailPage),
        (r"/preferences", pages.PreferencesPage),
    ]


def make_metrics_app(app: tornado.web.Application) -> tornado.web.Application:
    """/metrics alone, for the loopback listener of --metrics-port: the same metric objects,
    config and store as `app`, and nothing else (every other path is 404)."""
    return tornado.web.Application(
        [(r"/metrics", metrics.MetricsHandler)], **{**app.settings, "metrics_listener": True}
    )


def make_app(
    config: Config, store: Store, passwords: Passwords | None = None
) -> tornado.web.Application:
    """The application over an opened store. `passwords` defaults to the config's cost."""
    i18n.load_translations()  # Chinese is the default; English from translations/en_US.csv
    table = routes()
    observed = metrics.Metrics()  # this application's own metric objects
    return KeptAnswers(
        table,
        default_handler_class=pages.NotFoundPage,
        config=config,
        # The records pages show, kept while the content version stands (forum/store/kept.py).
        store=KeptReads(store),
        passwords=passwords or Passwords(config.password_cost),
        stats_cache=stats_reports.ReportCache(),
        # Whole pages for anonymous readers, checked against the store's content version.
        page_cache=PageCache() if config.page_cache else None,
        # Board and post pages for signed-in readers, shared by those they look the same to.
        reader_pages=ReaderPages() if config.page_cache else None,
        # Session cookies whose signature was checked lately (web/signed_cookies.py).
        checked_cookies=CheckedCookies(),
        # Logins checked, valid while the store's auth version stands (services/accounts.py).
        kept_logins=accounts.KeptLogins(),
        # List items and replies rendered once for every reader they look the same to.
        fragments=modules.Fragments(),
        static_nav=[(slug, boards.POLICIES[slug].name) for slug in boards.BOARD_ORDER],
        cookie_secret=config.cookie_secret,
        xsrf_cookies=True,
        # Over HTTPS the __Host- prefix: browsers take the cookie only when Secure, host-only and
        # for path /, so neither a sibling domain nor a plain-HTTP answer can plant a token.
        xsrf_cookie_name="__Host-_xsrf" if config.behind_https else "_xsrf",
        xsrf_cookie_kwargs={
            "httponly": True,
            "samesite": "Lax",
            "secure": config.behind_https,
            "path": "/",
        },
        template_path=config.templates_path,
        static_path=config.static_path,
        static_handler_class=static.StaticFiles,  # nosniff, and a charset on text types
        ui_modules=[modules, figures],
        compiled_template_cache=not config.debug,
        static_hash_cache=not config.debug,
        debug=config.debug,
        metrics=observed,
        # One log line and the metrics of every finished request (forum/web/access.py).
        log_function=access.RequestLog(observed, table),
    )
