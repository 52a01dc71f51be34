"""kb: Japanese knowledge base and FAQ search for city-hall one-stop consultation desks.

Importing kb loads nothing heavy: models, indexes and databases are opened by the objects that
need them (see :mod:`kb.search.service` and :func:`kb.api.app.create_app`).
"""

__version__ = "0.1.0"
