"""Which distribution provides an imported module.

The order is: the few modules whose distribution on the platform is not the one installed
here, the installed environment (`importlib.metadata.packages_distributions`), then a
small table of well-known import names that differ from their distribution, then the
module name itself. The hub's whitelist, when reachable, comes before all of these
(`crunch_cli.requirements.resolve`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping, Sequence

# `crunch` is installed here by this tool (crunch-cli-hub), but the platform installs the
# public client under the name its whitelist knows: what runs here is no guide.
PLATFORM_NAMES: Mapping[str, str] = {"crunch": "crunch-cli"}

# Import name -> distribution, for the libraries people import most often under another
# name; used when the package is not installed here (a notebook written elsewhere).
ALIASES: Mapping[str, str] = {
    "Bio": "biopython",
    "Crypto": "pycryptodome",
    "OpenSSL": "pyOpenSSL",
    "PIL": "pillow",
    "attr": "attrs",
    "bs4": "beautifulsoup4",
    "castle": "gcastle",
    "cv2": "opencv-python",
    "dateutil": "python-dateutil",
    "docx": "python-docx",
    "dotenv": "python-dotenv",
    "faiss": "faiss-cpu",
    "fitz": "PyMuPDF",
    "git": "GitPython",
    "jose": "python-jose",
    "jwt": "PyJWT",
    "magic": "python-magic",
    "mpl_toolkits": "matplotlib",
    "pptx": "python-pptx",
    "pywt": "PyWavelets",
    "serial": "pyserial",
    "skimage": "scikit-image",
    "sklearn": "scikit-learn",
    "sklego": "scikit-lego",
    "slugify": "python-slugify",
    "talib": "TA-Lib",
    "umap": "umap-learn",
    "usb": "pyusb",
    "yaml": "PyYAML",
    "zmq": "pyzmq",
}


def is_standard(module: str) -> bool:
    return module in sys.stdlib_module_names


@functools.cache
def installed_distributions() -> Mapping[str, Sequence[str]]:
    """Top-level module -> distributions providing it, in this interpreter's environment."""
    from importlib.metadata import packages_distributions

    return packages_distributions()


def module_to_distribution(
    module: str, *, installed: Mapping[str, Sequence[str]] | None = None
) -> str:
    """The distribution to install for `import module` (the module name when unknown).

    `installed` replaces the scan of this environment (tests, or a conversion that must
    not depend on what happens to be installed).
    """
    from packaging.utils import canonicalize_name

    if module in PLATFORM_NAMES:
        return PLATFORM_NAMES[module]
    providers = sorted(
        set((installed_distributions() if installed is None else installed).get(module, ()))
    )
    if len(providers) == 1:
        return providers[0]
    if module in ALIASES:
        return ALIASES[module]
    # Several distributions ship this module (namespace packages, forks): only a name
    # that matches the module is a safe pick.
    for provider in providers:
        if canonicalize_name(provider) == canonicalize_name(module):
            return provider
    return module
