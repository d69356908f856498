"""Registry facts: packages found from links and install commands, each registry's document read
into plain sentences, base addresses from the environment. Documents are the fixtures in
tests/data/intake/registry, in each registry's own format."""

from __future__ import annotations

from pathlib import Path

import pytest

from panel.errors import FetchFailed
from panel.intake.extract import Link
from panel.intake.registries import Document, Package, documents, facts, find_packages

REGISTRY = Path(__file__).parents[1] / "data" / "intake" / "registry"


def links(*urls: str) -> list[Link]:
    return [Link(u, "") for u in urls]


def test_install_commands_name_the_tools_packages():
    text = """
    pip install -U fernwick[postgres]   then   uv add fernwick-cli
    npm i --save-dev @fernwick/client      cargo add fernwick-core
    uv add ruff    # a tool the docs use, not the tool
    """
    found = find_packages("Fernwick", [], [text])
    assert found == [
        Package("pypi", "fernwick"),
        Package("pypi", "fernwick-cli"),
        Package("npm", "@fernwick/client"),
        Package("crates", "fernwick-core"),
    ]


def test_registry_links_of_the_tool_are_kept_and_others_dropped():
    found = find_packages(
        "Lanternfish",
        links(
            "https://www.npmjs.com/package/lanternfish",
            "https://www.npmjs.com/package/left-pad",
            "https://crates.io/crates/lanternfish-core",
            "https://github.com/lanternfish-dev/lanternfish/blob/main/README.md",
            "https://github.com/sponsors/lanternfish",
            "https://huggingface.co/datasets/lanternfish/docs",
            "https://pypi.org/project/lanternfish/",
        ),
        [],
    )
    assert found == [
        Package("npm", "lanternfish"),
        Package("crates", "lanternfish-core"),
        Package("github", "lanternfish-dev/lanternfish"),
        Package("pypi", "lanternfish"),
    ]


def test_at_most_two_packages_per_registry():
    text = " ".join(f"pip install fernwick-{n}" for n in range(5))
    assert len(find_packages("fernwick", [], [text])) == 2


def test_each_base_address_comes_from_its_variable():
    env = {
        "PANEL_PYPI_URL": "http://127.0.0.1:1/pypi/",
        "PANEL_NPM_URL": "http://127.0.0.1:1/npm",
        "PANEL_CRATES_URL": "http://127.0.0.1:1/crates",
        "PANEL_GITHUB_URL": "http://127.0.0.1:1/gh",
        "PANEL_HF_URL": "http://127.0.0.1:1/hf",
    }
    urls = [
        d.url
        for p in (
            Package("pypi", "fernwick"),
            Package("npm", "@scope/name"),
            Package("crates", "lanternfish-core"),
            Package("github", "fernwick-labs/fernwick"),
            Package("hub", "murmur-ai/murmur-1b"),
        )
        for d in documents(p, env)
    ]
    assert urls == [
        "http://127.0.0.1:1/pypi/fernwick/json",
        "http://127.0.0.1:1/npm/@scope%2Fname",
        "http://127.0.0.1:1/crates/crates/lanternfish-core",
        "http://127.0.0.1:1/gh/repos/fernwick-labs/fernwick",
        "http://127.0.0.1:1/gh/repos/fernwick-labs/fernwick/releases/latest",
        "http://127.0.0.1:1/hf/murmur-ai/murmur-1b/raw/main/README.md",
    ]
    assert documents(Package("pypi", "x"), {})[0].url == "https://pypi.org/pypi/x/json"  # the default


def read(reader: str, rel: str, name: str) -> str:
    return facts((reader, name), (REGISTRY / rel).read_text(), f"http://registry.test/{rel}")  # type: ignore[arg-type]


def test_registry_documents_become_plain_sentences():
    assert read("pypi", "pypi/fernwick/json", "fernwick") == (
        "PyPI package fernwick. License (PyPI metadata): BUSL-1.1. Latest version 2.3.0, released "
        "2026-09-14. It needs Python 3.10 or later (PyPI metadata)."
    )
    assert read("npm", "npm/lanternfish", "lanternfish") == (
        "npm package lanternfish. License (npm metadata): MIT. Latest version 1.8.0, published 2026-08-30."
    )
    assert read("crates", "crates/crates/lanternfish-core", "lanternfish-core") == (
        "Crate lanternfish-core on crates.io. License (crates.io metadata): MIT. Latest version 1.8.0, "
        "published 2026-08-30."
    )
    assert read(
        "github-release", "github/repos/fernwick-labs/fernwick/releases/latest", "fernwick-labs/fernwick"
    ) == ("GitHub releases of fernwick-labs/fernwick. Latest release v2.3.0, published 2026-09-14.")
    assert read("hub", "hub/murmur-ai/murmur-1b/raw/main/README.md", "murmur-ai/murmur-1b") == (
        "Hugging Face model murmur-ai/murmur-1b. License (Hugging Face model card): mit. Base model "
        "(model card): murmur-ai/murmur-base. Task (model card): automatic-speech-recognition. "
        "Library (model card): transformers."
    )


def test_a_registry_that_states_no_fact_gives_no_text():
    """GitHub names no standard license for the BUSL repository: the document says nothing."""
    assert read("github", "github/repos/fernwick-labs/fernwick/index.json", "fernwick-labs/fernwick") == ""


def test_license_fallbacks_classifiers_and_long_license_texts():
    classifier = (
        '{"info": {"name": "x", "version": "1.0", "license": "", '
        '"classifiers": ["License :: OSI Approved :: MIT License"]}, "urls": []}'
    )
    assert "License (PyPI metadata): MIT License." in facts(("pypi", "x"), classifier, "u")
    whole_text = (
        '{"info": {"name": "x", "version": "1.0", "license": "' + "Permission is granted " * 20 + '"}}'
    )
    assert "License" not in facts(("pypi", "x"), whole_text, "u")


@pytest.mark.parametrize(
    ("reader", "text", "problem"),
    [
        ("pypi", "<html>not json</html>", "not a PyPI document"),
        ("npm", "[1, 2]", "expected a JSON object"),
        ("crates", '{"crate": {}, "crate": {}}', "duplicate key"),
        ("hub", "---\nlicense: [unclosed\n---\n", "front matter cannot be read"),
    ],
)
def test_a_document_that_is_not_the_registrys_fails_with_one_line(reader: str, text: str, problem: str):
    with pytest.raises(FetchFailed) as caught:
        facts((reader, "x"), text, "http://registry.test/x")  # type: ignore[arg-type]
    assert problem in caught.value.problem and caught.value.where == "http://registry.test/x"


def test_document_titles_name_the_registry_and_package():
    doc = Document(Package("pypi", "fernwick"), "pypi", "u", "json")
    assert doc.title == "PyPI: fernwick"
