"""The OpenAPI 3.1 document of /api/v1 (API.md), served at /api/openapi.json, and the reference
page at /api/docs that renders it with the vendored Redoc (static/vendor/redoc).

The document is plain data built by the small helpers of schema.py and operations.py. The
request bodies and the query parameters the services check are made from the same field
definitions the services check them with (services/forms.py, by `schema.schema_of`), and the
other enumerations and limits come from the modules that enforce them (model, boards, workflow,
services), so the document cannot drift from the rules; the answers' shapes (components.py,
one module a family of records) follow forum/web/views.py. The paths are in one module per
area: paths_accounts.py, paths_posts.py (boards and posts), paths_consultation.py
(consultation, search, the knowledge base), paths_notifications.py (notifications and
following), paths_cases.py (cases, with the casework steps of paths_casework.py),
paths_departments.py (moderation, departments and statistics) and paths_admin.py
(administration).

tests/web/test_openapi.py checks the paths and methods against app.routes() in both directions,
validates the document against the OpenAPI 3.1 schema, holds every request body to its form's
definitions, and validates real responses against the schemas given here.
"""

from forum.web.openapi.document import document, document_json
from forum.web.openapi.handlers import ApiDocsPage, OpenApiHandler

__all__ = ["ApiDocsPage", "OpenApiHandler", "document", "document_json"]
