"""kb's tests, a regular package: the `gimei` dependency installs a top-level package named
``tests`` of its own, which would otherwise win over this folder in a fresh interpreter
(``python -c "from tests.conftest import ..."``, as tests/test_hostile_input.py runs)."""
