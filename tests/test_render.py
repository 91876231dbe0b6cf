"""Render every supported option combination and check the result reads as written for it."""

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import Renderer
from tests.support import FEATURES, combos, empty_dirs, load_hook, project_files, subprocess_env

hook = load_hook("post_gen_project")
COMBOS = combos()
# Leftover template syntax: cookiecutter variables, or Jinja statements. A bare `{%` is not
# enough: Step Functions JSONata expressions are written `{% ... %}` and are meant to stay.
LEFTOVER = re.compile(r"\{\{-?\s*cookiecutter|\{%-?\s*(if|elif|else|endif|for|endfor|raw|endraw|set|macro)\b")


def off_features(name: str) -> tuple[str, ...]:
    """The features a combination switches off."""
    return COMBOS[name]


def pruned_patterns(name: str) -> dict[str, list[str]]:
    """The path patterns the hook prunes for a combination: each off feature's, and unused shared ones."""
    off = off_features(name)
    patterns = {feature: hook.FEATURE_PATHS[feature] for feature in off}
    switches = {feature: "n" if feature in off else "y" for feature in FEATURES}
    patterns["shared"] = hook.unused_shared_paths(switches)
    patterns["joint"] = hook.unused_joint_paths(switches)
    return patterns


def removed_files(rendered: Renderer, name: str) -> set[str]:
    """Files the all-on render has and this combination's render does not."""
    return project_files(rendered("all-on")) - project_files(rendered(name))


def text_files(root: Path) -> dict[str, str]:
    """Every text file of the render, by relative path."""
    texts = {}
    for path in root.rglob("*"):
        if path.is_file():
            try:
                texts[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return texts


def module_name(relative: str) -> str:
    """chalicelib/api/orders.py -> chalicelib.api.orders; a package's __init__ names the package."""
    return relative.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def imported_modules(source: str) -> set[str]:
    """Every module a Python file imports, including `from package import module` forms."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("name", COMBOS)
def test_render_has_no_leftover_template_syntax(rendered: Renderer, name: str) -> None:
    """Given a render, then no file still holds cookiecutter variables or Jinja statements."""
    leftovers = {path: match.group(0) for path, text in text_files(rendered(name)).items()
                 if (match := LEFTOVER.search(text))}
    assert leftovers == {}


@pytest.mark.parametrize("name", COMBOS)
def test_switched_off_patterns_leave_no_file_or_empty_folder(rendered: Renderer, name: str) -> None:
    """Given features switched off, then none of their paths exist and no folder is left empty."""
    root = rendered(name)
    left = {owner: [p.relative_to(root).as_posix() for p in hook.matching_paths(root, patterns)]
            for owner, patterns in pruned_patterns(name).items()}
    assert {feature: paths for feature, paths in left.items() if paths} == {}
    assert empty_dirs(root) == []


@pytest.mark.parametrize("name", [name for name in COMBOS if name != "all-on"])
def test_switching_off_removes_exactly_the_feature_paths(rendered: Renderer, name: str) -> None:
    """Given the all-on render, then a combination lacks exactly the files its features' patterns name there."""
    full = rendered("all-on")
    expected: set[str] = set()
    for patterns in pruned_patterns(name).values():
        for path in hook.matching_paths(full, patterns):
            expected |= {path.relative_to(full).as_posix()} if path.is_file() else {
                p.relative_to(full).as_posix() for p in path.rglob("*") if p.is_file()}
    assert removed_files(rendered, name) == expected


@pytest.mark.parametrize("name", COMBOS)
def test_json_and_yaml_files_parse(rendered: Renderer, name: str) -> None:
    """Given a render, then every JSON and YAML file parses (YAML with long-form intrinsics only)."""
    root = rendered(name)
    broken = {}
    for path in root.rglob("*"):
        try:
            if path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix in (".yaml", ".yml"):
                yaml.safe_load(path.read_text())
        except (ValueError, yaml.YAMLError) as error:
            broken[path.relative_to(root).as_posix()] = str(error).splitlines()[0]
    assert broken == {}
    assert (root / ".chalice" / "config.json").is_file()


@pytest.mark.parametrize("name", COMBOS)
def test_ruff_is_clean_with_the_projects_own_config(rendered: Renderer, name: str) -> None:
    """Given a render, when ruff checks it with its own pyproject.toml, then there is nothing to report."""
    root = rendered(name)
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=root,
                            capture_output=True, text=True, env=subprocess_env(), timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def any_word_of(words: set[str]) -> re.Pattern[str]:
    """One pattern for any of the words standing alone: a lookahead, so it finds one at every position (the longest).

    One scan of each file instead of one per word: the files times the removed modules made this test
    seconds of CPU per combination.
    """
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)) or r"(?!)"
    return re.compile(rf"(?=\b({alternatives})\b)")


@pytest.mark.parametrize("name", [name for name in COMBOS if name != "all-on"])
def test_nothing_refers_to_removed_files(rendered: Renderer, name: str) -> None:
    """Given features switched off, then no import, module path or file name of a removed file remains."""
    removed = removed_files(rendered, name)
    modules = {module_name(path) for path in removed if path.endswith(".py")}
    names = {Path(path).name for path in removed if not path.endswith(".py")}
    dead, module_word = {}, any_word_of(modules)
    for path, text in text_files(rendered(name)).items():
        found = {match.group(1) for match in module_word.finditer(text)}
        found |= {n for n in names if n in text}
        if path.endswith(".py"):
            found |= imported_modules(text) & modules
        if found:
            dead[path] = sorted(found)
    assert dead == {}


# Words only sign-in brings: a render without it must read as if it had never been there.
AUTH_WORDS = re.compile(
    r"[Cc]ognito|[Aa]uthorizer|Authorization|USER_POOL|[Uu]ser ?[Pp]ool|[Ss]ign(ed)?[- ]in|as_user|as_admin|/users/me|"
    r"make (-s )?token|\$TOKEN|[Ff]orbidden|is_admin|ADMIN_GROUP|admin group"
)


@pytest.mark.parametrize("name", [name for name in COMBOS if "auth" in off_features(name)])
def test_without_sign_in_nothing_mentions_it(rendered: Renderer, name: str) -> None:
    """Given sign-in switched off, then no file names tokens, pools, authorizers, callers or admins."""
    found = {
        path: sorted({match.group(0) for match in AUTH_WORDS.finditer(text)})
        for path, text in text_files(rendered(name)).items()
        if path != "uv.lock"
    }
    assert {path: words for path, words in found.items() if words} == {}
    assert AUTH_WORDS.search((rendered("all-on") / "chalicelib/api/routing.py").read_text())  # the words do occur


def test_default_render_uses_the_options(rendered: Renderer) -> None:
    """Given the defaults, then the slug, region and architecture reach the service's config."""
    root = rendered("all-on")
    config = json.loads((root / ".chalice" / "config.json").read_text())
    assert root.name == "orders-service"
    assert config["app_name"] == "orders-service"
    assert config["lambda_architecture"] == "arm64"
    assert '"us-east-1"' in (root / "chalicelib" / "config.py").read_text()


@pytest.mark.parametrize("name", COMBOS)
def test_the_service_depends_on_chalice_devstack_and_carries_no_copy(
    rendered: Renderer, template_dir: Path, name: str
) -> None:
    """Given a render, then devstack installs within a pinned range from this checkout, not a folder of its own."""
    root = rendered(name)
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    makefile = (root / "Makefile").read_text()
    # Kept out of the lock (a path would tie it to one machine): the Makefile installs it, held to the lock
    assert "DEVSTACK_SPEC ?= chalice-devstack>=0.1,<0.2\n" in makefile
    assert not any(spec.startswith("chalice-devstack") for spec in pyproject["project"]["optional-dependencies"]["dev"])
    assert pyproject["tool"]["devstack"]["region"] == "us-east-1"
    assert f"DEVSTACK_SOURCE ?= {template_dir.resolve()}/packages/chalice-devstack\n" in makefile
    assert not (root / "devstack").exists()
    assert pyproject["tool"]["devstack"]["settings_class"] == "chalicelib.config:Settings"
    assert ("seed" in pyproject["tool"]["devstack"]) == (name == "all-on" or (root / "scripts" / "seed.py").exists())


@pytest.mark.parametrize("name", COMBOS)
def test_the_tooling_targets_call_the_devstack_command(rendered: Renderer, name: str) -> None:
    """Given a render, then its Makefile runs the package's commands and no copied tooling module."""
    root = rendered(name)
    makefile = (root / "Makefile").read_text()
    commands = ["up --stage $(STAGE)", "status", "trigger $(FN)", "package --stage $(STAGE) --out $(DIST)", "check"]
    commands += ["bench ready", "bench events", "bench cold-start", "profile $(ARGS)", "load run", "load compare"]
    assert [command for command in commands if f"$(DEVSTACK_BIN) {command}" not in makefile] == []
    copied = ["scripts.package", "template_checks", "bench_cold_start", "profile_request", "loadtests.run"]
    assert [module for module in copied if module in makefile] == []
    moved = ("scripts/package.py", "loadtests/report.py", "loadtests/run.py")
    assert [path for path in moved if (root / path).exists()] == []
