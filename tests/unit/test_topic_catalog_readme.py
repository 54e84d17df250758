"""The README's topic catalog is the catalog the code uses: a new event type cannot go undocumented."""

from __future__ import annotations

from pathlib import Path

from schemas.topics import TOPICS, topic_markdown

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_topic_table_is_the_one_the_catalog_generates():
    assert topic_markdown() in README.read_text(), (
        "README's topic catalog is out of step: paste the output of "
        "`python -c 'from schemas.topics import topic_markdown; print(topic_markdown())'`"
    )


def test_the_generated_table_names_every_value_type_of_every_topic():
    table = topic_markdown()
    for spec in TOPICS:
        for type_name in spec.type_names:
            assert f"`{type_name}`" in table
