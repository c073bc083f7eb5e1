"""django-two-factor-auth's views, imported without the QR code library (issue 15).

`two_factor.views.core` imports `qrcode` and `qrcode.image.svg` when it is imported, for its
`QRGeneratorView` alone; `qrcode` imports Pillow, and its SVG images lxml: some 8 MB of
every web worker's resident memory, for an image drawn once per account, while the
authenticator app is set up. Every worker imports that module for its `LoginView` (the
login page) and `SetupView`.

So while it is imported, `qrcode` and its two submodules are stand-ins that import the real
module the first time anything is asked of them: `qrcode.make` in `QRGeneratorView.get`,
which then draws the same SVG as before. The stand-ins are in `sys.modules` only during that
one import; every later `import qrcode` gets the real package. Were `two_factor.views`
imported already, this changes nothing. tests/test_worker_imports.py checks that a worker
that served the login page has loaded none of qrcode, Pillow and lxml.
"""

import importlib
import sys
from types import ModuleType
from typing import Any

QRCODE_MODULES = ("qrcode", "qrcode.image", "qrcode.image.svg")


class _ImportedOnFirstUse(ModuleType):
    """Stands in for a module: every attribute read is the real module's (imported on the
    first)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)


def _import_without_qrcode(module: str) -> ModuleType:
    if "qrcode" in sys.modules:  # imported already: nothing to save
        return importlib.import_module(module)
    stand_ins = {name: _ImportedOnFirstUse(name) for name in QRCODE_MODULES}
    sys.modules.update(stand_ins)
    try:
        return importlib.import_module(module)
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


# Any, as `from two_factor import views` was: django-two-factor-auth has no type hints.
two_factor_views: Any = _import_without_qrcode("two_factor.views")
