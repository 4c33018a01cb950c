"""Dependencies point one way, from the CLI down to text: every module's imports (top-level, in
functions, and under TYPE_CHECKING alike) are read with `ast`, and none may reach a higher layer.
The table is docs/design.md's; a new module must be given its layer here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "slotfill"

# lowest first; a module may import its own layer and the ones before it
LAYERS: list[tuple[str, ...]] = [
    (
        "slotfill",
        "slotfill.errors",
        "slotfill.choices",
        "slotfill.layout",
        "slotfill.files",
        "slotfill.options",
        "slotfill.parses",
    ),
    ("slotfill.config",),
    ("slotfill.text",),
    ("slotfill.data",),
    ("slotfill.features", "slotfill.gazetteer"),
    ("slotfill.values",),
    ("slotfill.decoding",),
    ("slotfill.nn",),
    ("slotfill.store",),
    ("slotfill.evaluation", "slotfill.parallel"),
    ("slotfill.export",),
    ("slotfill.annotation",),
    ("slotfill.predict",),
    ("slotfill.training",),
    ("slotfill.serve",),
    ("slotfill.cli",),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The layer of the longest prefix that the table names; `slotfill` names the package's own
    __init__ only, never a prefix (else every module would have a layer, and a new package would
    land in the lowest one unseen)."""
    best, found = -1, None
    for index, names in enumerate(LAYERS):
        for name in names:
            prefix = name != "slotfill" and module.startswith(name + ".")
            if (module == name or prefix) and len(name) > best:
                best, found = len(name), index
    assert found is not None, f"{module} has no layer in tests/architecture/test_layers.py"
    return found


def imported(tree: ast.AST, module: str) -> set[str]:
    """The slotfill modules a module imports, anywhere in it (`from slotfill.x import y` counts
    `slotfill.x.y` when that is a module, else `slotfill.x`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("slotfill")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("slotfill"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").is_file() or (
                    PACKAGE.parent / candidate.replace(".", "/") / "__init__.py"
                ).is_file()
                names.add(candidate if is_module else node.module)
    return names


def test_every_import_points_down_the_layers() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        own = layer_of(module)
        for target in sorted(imported(ast.parse(path.read_text(encoding="utf-8")), module)):
            if target != "slotfill" and layer_of(target) > own:
                upward.append(f"{module} (layer {own}) imports {target} (layer {layer_of(target)})")
    assert upward == []


def test_every_module_has_a_layer_and_one_outside_the_table_fails(tmp_path: Path) -> None:
    modules = [module_name(path) for path in sorted(PACKAGE.rglob("*.py"))]
    assert all(layer_of(module) >= 0 for module in modules)  # each named, else layer_of fails
    # a package the table does not name (as a new one would be) is refused, not put in the lowest layer
    for unnamed in ("slotfill.newstage", "slotfill.newstage.module", "slotfill.configs"):
        try:
            layer_of(unnamed)
        except AssertionError as error:
            assert str(error).startswith(f"{unnamed} has no layer")
        else:
            raise AssertionError(f"{unnamed} got a layer")


def test_the_network_never_imports_inference_scoring_or_training() -> None:
    for path in (PACKAGE / "nn").rglob("*.py"):
        targets = imported(ast.parse(path.read_text(encoding="utf-8")), module_name(path))
        assert not {t for t in targets if t.split(".")[1] in ("evaluation", "training", "predict", "serve")}, path


def test_no_package_init_imports_anything_heavy() -> None:
    """`slotfill --help` and the torch-free runtime stay light: no `__init__` imports torch (or any
    slotfill module but the CLI's, which is the app itself)."""
    for path in PACKAGE.rglob("__init__.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert "torch" not in {m.split(".")[0] for m in modules}, path
        if path.parent.name != "cli":
            assert not {m for m in modules if m.startswith("slotfill")}, path


def test_the_test_sees_an_upward_import() -> None:
    tree = ast.parse("from slotfill.training.loop import train\n")
    assert layer_of(next(iter(imported(tree, "slotfill.nn.tagger")))) > layer_of("slotfill.nn.tagger")
