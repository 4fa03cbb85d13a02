"""The scale-out store: MongoDB through PyMongo's async client.

Writes are acknowledged only once a majority of the replica set has them in its journal, and reads
ask for majority-committed data, so an acknowledged write survives a failover. Changes that touch
several documents run in one transaction where the server has them (replica set or mongos); on a
standalone server they run in an order that a crash leaves consistent.

A module per record family (posts, accounts, boards, files, search, notices, limits, records),
each a class over the core (core.py: client, unit of work, versions); MongoStore joins them here,
and the core's class decorators wrap every family's methods on the joined class. The schema's
steps are in schema.py, the shape of documents in documents.py.
"""

from __future__ import annotations

from forum.store.mongo.accounts import _Accounts
from forum.store.mongo.boards import _Boards
from forum.store.mongo.core import _moves_content_version, _report_unavailable
from forum.store.mongo.documents import _to_doc as _to_doc
from forum.store.mongo.files import _Files
from forum.store.mongo.limits import _Limits
from forum.store.mongo.notices import _Notices
from forum.store.mongo.posts import _Posts
from forum.store.mongo.records import _Records
from forum.store.mongo.schema import MIGRATIONS as MIGRATIONS
from forum.store.mongo.search import _Search


@_report_unavailable
@_moves_content_version
class MongoStore(_Posts, _Accounts, _Boards, _Files, _Search, _Notices, _Limits, _Records):
    """The Store over MongoDB: every record family's methods, over one core."""
