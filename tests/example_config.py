"""The commented-out shard blocks of config/syncd.example.toml, read back as sections."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).parents[1] / "config" / "syncd.example.toml"


def example_section(name: str) -> dict[str, Any]:
    """The one shard section of the `# ---- BEGIN name ----` block, uncommented: settings are
    "#key = …" / "#[table]"; prose is "# …" or "## …"."""
    text = EXAMPLE.read_text()
    block = text[text.index(f"# ---- BEGIN {name} ----") : text.index(f"# ---- END {name} ----")]
    code = [ln[1:] for ln in block.splitlines() if re.match(r"#[^\s#]", ln)]
    (section,) = tomllib.loads("\n".join(code))["shards"].values()
    return dict(section)
