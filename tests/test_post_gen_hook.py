"""The post-gen hook's functions, on small trees laid out like the generated service."""

import json
from pathlib import Path

import jinja2
import pytest

from tests.support import FEATURES, REPO_ROOT, empty_dirs, load_hook, project_files

hook = load_hook("post_gen_project")

# Files every variant keeps: the users slice and the shared plumbing.
SHARED_FILES = (
    "app.py",
    "chalicelib/__init__.py",
    "chalicelib/api/users.py",
    "chalicelib/services/users.py",
    "chalicelib/db/users.py",
    "chalicelib/schemas/users.py",
    "tests/unit/test_users_service.py",
    "tests/integration/test_users_api.py",
    ".chalice/config.json",
    ".chalice/policies/api.json",
    "docs/workshop/01-rest-api.md",
)


def example_path(pattern: str) -> str:
    """A concrete file a pattern stands for: ** -> one folder, * -> 'x', a bare folder -> a file in it."""
    path = pattern.replace("**", "unit").replace("*", "x")
    return path if Path(path).suffix else f"{path}/tasks.py"


def feature_examples(feature: str) -> set[str]:
    """One concrete file per pattern of a feature."""
    return {example_path(pattern) for pattern in hook.FEATURE_PATHS[feature]}


def make_tree(root: Path, files: set[str]) -> Path:
    """Write the given files (each holding its own name) under root."""
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """Given: a tree with the shared files and one example file per pattern of every feature."""
    files = set(SHARED_FILES).union(
        hook.SHARED_PATHS, hook.JOINT_PATHS, *(feature_examples(feature) for feature in FEATURES)
    )
    return make_tree(tmp_path / "svc", files)


def test_mapping_covers_exactly_the_switches() -> None:
    """Given cookiecutter.json, then every include_* switch has one path list and one remover."""
    options = json.loads((REPO_ROOT / "cookiecutter.json").read_text())
    switches = {key.removeprefix("include_") for key in options if key.startswith("include_")}
    assert switches == set(FEATURES) == set(hook.FEATURE_PATHS) == set(hook.REMOVERS)


@pytest.mark.parametrize("feature", FEATURES)
def test_remover_takes_its_feature_and_nothing_else(service: Path, feature: str) -> None:
    """Given the full tree, when one feature's remover runs, then exactly that feature's files go."""
    before = project_files(service)
    removed = hook.REMOVERS[feature](service)
    assert removed, "the remover matched nothing"
    assert before - project_files(service) == feature_examples(feature)


def test_folder_pattern_removes_the_whole_folder(tmp_path: Path) -> None:
    """Given a saga folder with nested files, when orders are removed, then the folder is gone."""
    root = make_tree(tmp_path, {"chalicelib/saga/__init__.py", "chalicelib/saga/order.asl.json",
                                "chalicelib/saga/steps/reserve.py", "chalicelib/api/users.py"})
    hook.remove_orders_files(root)
    assert not (root / "chalicelib/saga").exists()
    assert project_files(root) == {"chalicelib/api/users.py"}


def test_test_globs_reach_any_depth(tmp_path: Path) -> None:
    """Given order tests at several depths, then all are removed and similarly named user tests stay."""
    root = make_tree(tmp_path, {"tests/test_orders.py", "tests/unit/test_orders_service.py",
                                "tests/integration/api/test_orders_api.py", "tests/unit/test_users_orders_view.py"})
    hook.remove_orders_files(root)
    assert project_files(root) == {"tests/unit/test_users_orders_view.py"}


def test_missing_files_are_not_an_error(tmp_path: Path) -> None:
    """Given a tree without any feature file, then each remover removes nothing and does not fail."""
    make_tree(tmp_path, set(SHARED_FILES))
    for remove in hook.REMOVERS.values():
        assert remove(tmp_path) == []
    assert project_files(tmp_path) == set(SHARED_FILES)


def test_remove_empty_dirs_cascades_and_keeps_the_rest(tmp_path: Path) -> None:
    """Given nested empty folders beside non-empty ones, then only the empty chains go."""
    (tmp_path / "a/b/c").mkdir(parents=True)
    (tmp_path / "d/e").mkdir(parents=True)
    (tmp_path / "d/keep.txt").write_text("x")
    removed = hook.remove_empty_dirs(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in removed} == {"a", "a/b", "a/b/c", "d/e"}
    assert tmp_path.exists() and empty_dirs(tmp_path) == [] and project_files(tmp_path) == {"d/keep.txt"}


def test_prune_all_off_leaves_the_shared_files_and_no_empty_folder(service: Path) -> None:
    """Given every switch off, when pruned, then the shared files remain and no folder is empty."""
    hook.prune(service, dict.fromkeys(FEATURES, "n"))
    assert project_files(service) == set(SHARED_FILES)
    assert empty_dirs(service) == []


@pytest.mark.parametrize("shared", sorted(hook.SHARED_PATHS))
def test_shared_path_stays_while_any_user_is_on(service: Path, shared: str) -> None:
    """Given a shared path, when all but one of its users are off, then it stays; with that one off too, it goes."""
    users = hook.SHARED_PATHS[shared]
    for last_on in users:
        only_last_on = {feature: "y" if feature == last_on or feature not in users else "n" for feature in FEATURES}
        hook.prune(service, only_last_on)
        assert (service / shared).exists(), f"{shared} removed while {last_on} is on"
    hook.prune(service, dict.fromkeys(FEATURES, "n"))
    assert not (service / shared).exists()


def test_shared_paths_name_known_features() -> None:
    """Given the shared-path table, then every user it names is a feature switch."""
    assert {user for users in hook.SHARED_PATHS.values() for user in users} <= set(FEATURES)


@pytest.mark.parametrize("joint", sorted(hook.JOINT_PATHS))
def test_joint_path_goes_as_soon_as_one_of_its_features_is_off(service: Path, joint: str) -> None:
    """Given a joint path, when its features are all on it stays; with any one of them off, it goes."""
    needs = hook.JOINT_PATHS[joint]
    assert set(needs) <= set(FEATURES)
    hook.prune(service, dict.fromkeys(FEATURES, "y"))
    assert (service / joint).exists()
    for off in needs:
        assert joint in hook.unused_joint_paths({feature: "n" if feature == off else "y" for feature in FEATURES})


def test_prune_all_on_removes_nothing(service: Path) -> None:
    """Given every switch on, when pruned, then nothing is removed."""
    before = project_files(service)
    assert hook.prune(service, dict.fromkeys(FEATURES, "y")) == []
    assert project_files(service) == before


def test_next_steps_name_the_folder_and_the_commands() -> None:
    """Given a slug, then the next steps cd into it and list install, test and dev."""
    lines = [line.strip() for line in hook.next_steps("billing-api").splitlines()]
    commands = [line.split("#")[0].strip() for line in lines if line.startswith(("cd ", "make "))]
    assert commands == ["cd billing-api", "make install", "make test", "make dev"]


@pytest.mark.parametrize(
    ("auth", "user_paths"), [("y", {"/users", "/users/me", "/users/{user_id}"}), ("n", {"/users", "/users/{user_id}"})]
)
def test_prune_openapi_drops_the_operations_and_schemas_of_removed_route_modules(
    tmp_path: Path, auth: str, user_paths: set[str]
) -> None:
    """Given the template's all-on openapi.json (with or without sign-in) and only the users and health route modules,
    when pruned, then only their operations stay, with exactly the schemas those reach."""
    source = (REPO_ROOT / "{{cookiecutter.project}}" / "openapi.json").read_text()
    template = json.loads(jinja2.Template(source).render(cookiecutter={"include_auth": auth, "project": "svc"}))
    root = make_tree(tmp_path / "svc", {"chalicelib/api/users.py", "chalicelib/api/health.py"})
    (root / "openapi.json").write_text(json.dumps(template))
    hook.prune_openapi(root)
    pruned = json.loads((root / "openapi.json").read_text())
    tags = {op["tags"][0] for item in pruned["paths"].values() for op in item.values()}
    assert tags == {"users", "health"}
    assert set(pruned["paths"]) == {"/health"} | user_paths
    assert {"Order", "UploadGrant", "UserActivity"}.isdisjoint(pruned["components"]["schemas"])
    assert {"User", "UserCreate", "ErrorResponse", "FieldError"} <= set(pruned["components"]["schemas"])
    assert pruned["paths"]["/users"] == template["paths"]["/users"]
