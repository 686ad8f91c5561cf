"""Errors the user can act on.

Every command turns these into one line on standard error and exit status 2
(interfaces.md). The message names the place at fault: file, layer, record,
field.
"""


class InputError(Exception):
    """Bad input or usage: a one-line reason naming the place at fault."""

    def __init__(self, message: str, *, file: str = None, layer: str = None,
                 record=None, field: str = None):
        self.file, self.layer, self.record, self.field = file, layer, record, field
        where = []
        if file:
            where.append(str(file))
        if layer:
            where.append(f"layer {layer}")
        if record is not None:
            where.append(f"record {record}")
        if field:
            where.append(f"field {field}")
        self.reason = message
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class MissingDependency(ImportError):
    """A Python package the feature needs is not installed (or too old)."""

    def __init__(self, package: str, need: str, feature: str, found: str = None):
        self.package, self.need, self.found = package, need, found
        have = f"found {found}" if found else "not installed"
        super().__init__(
            f"{feature} needs the Python package {package} {need} ({have}); "
            f"install it with: python3 -m pip install --user '{package}{need}'"
        )


def require(module: str, package: str = None, minimum: str = None, feature: str = "Renewal Planner"):
    """Import ``module`` lazily, or raise MissingDependency naming what to install."""
    import importlib

    package = package or module
    try:
        mod = importlib.import_module(module)
    except ImportError:
        raise MissingDependency(package, f">={minimum}" if minimum else "", feature) from None
    if minimum:
        version = getattr(mod, "__version__", "0")
        if _vtuple(version) < _vtuple(minimum):
            raise MissingDependency(package, f">={minimum}", feature, found=version)
    return mod


def _vtuple(v: str):
    out = []
    for part in str(v).split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)
