"""pytest plugin for `make native-unit`: bind `syncd` to the compiled build first.

pytest puts the source tree at the front of sys.path when it imports the test packages;
importing the package here, before that, keeps every `syncd` module coming from the compiled
build that PYTHONPATH names. tests/conftest.py checks that it worked.
"""

import syncd  # noqa: F401  (imported for its effect on sys.modules)
