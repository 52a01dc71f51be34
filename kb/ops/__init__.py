"""Operations on a whole data folder: ``kb backup`` and ``kb restore``.

The orchestration sits above every layer it copies (store, index, embed, security) and below
the command line only:

* :mod:`kb.ops.layout`: what a backup folder holds, its manifest and checksums;
* :mod:`kb.ops.datafiles`: which files of ``DATA_DIR`` are copied, and how (SQLite online
  backup, plain copies, the serving index generation, the models);
* :mod:`kb.ops.auditcopy`: the audit log's anchor cut at the copied log's head, and the key
  check of a restore (the key itself is never in a backup);
* :mod:`kb.ops.backup` and :mod:`kb.ops.restore`: the two operations;
* :mod:`kb.ops.commands`: their command-line parsers;
* what they say is in :mod:`kb.messages` (its backup/restore table is
  :mod:`kb.message_tables.ops`), in Japanese and English (``KB_LANG``).
"""
