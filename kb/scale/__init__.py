"""Scale-out on Ray: the only package that imports ``ray``, and only when asked to.

One adapter module per Ray library, each imported by the ``--ray`` code paths alone:

- :mod:`kb.scale.cluster` (Ray Core): connect to a cluster, or start a bounded local instance
  on loopback, and stop what was started.
- :mod:`kb.scale.serve` (Ray Serve): ``kb serve --ray``, ``create_app(settings)`` behind a Serve
  ingress with N replicas, each loading the read-only serving index.
- :mod:`kb.scale.data` (Ray Data): ``kb build --ray``, the texts that the embedding cache lacks
  embedded by a ``map_batches`` pipeline (one model per worker), then the normal build.

``import kb.scale`` imports none of them: Ray costs seconds to import.
"""
