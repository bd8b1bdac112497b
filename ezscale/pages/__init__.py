"""Pages: route + composition only.

Each module registers its pages with `@area_page` (ezscale/components/layout.py); importing this
package imports every module in it, so `PAGES` then holds every page of the app.
"""

import importlib
import pkgutil

from ezscale.components.layout import PAGES, Page

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["PAGES", "Page"]
